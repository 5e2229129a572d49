// A controller whose flows directory holds pathological files (a deep chain of gotos, a file of
// tens of thousands of nodes, nesting that overflows a recursive parser, an alias bomb) starts,
// becomes ready, answers citizens with its other flows, and shrugs off such a file written
// while it runs: a bad file costs only itself.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type Lab, startLab } from '../helpers/lab.js';
import { citizenScenario, runSipp } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;
let flowsDir: string;

function gotoChainYaml(n: number, id: string, number: string): string {
  const lines = [`id: ${id}`, `numbers: ["${number}"]`, 'start: n0', 'nodes:'];
  for (let i = 0; i < n - 1; i++) lines.push(`  n${i}: { type: goto, target: n${i + 1} }`);
  lines.push(`  n${n - 1}: { type: hangup }`);
  return `${lines.join('\n')}\n`;
}

function aliasBombYaml(): string {
  const lines = ['id: bomb', 'start: a', 'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `lol${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    );
  return `${[...lines, 'nodes:', '  a: { type: hangup }'].join('\n')}\n`;
}

interface FlowStatus {
  file: string;
  flowId: string | null;
  version: string | null;
  errors: string[];
}

async function flowStatus(): Promise<Map<string, FlowStatus>> {
  const res = await controller.api<{ flows: FlowStatus[] }>('GET', '/api/flows');
  if (res.status !== 200) throw new Error(`GET /api/flows answered ${res.status}`);
  return new Map(res.body.flows.map((f) => [f.file, f]));
}

t.before(async () => {
  flowsDir = mkdtempSync(join(tmpdir(), 'rexian-flow-limits-'));
  cpSync(join(repoRoot, 'ivr-flows'), flowsDir, { recursive: true });
  writeFileSync(join(flowsDir, 'deep.yaml'), gotoChainYaml(5000, 'deep', '12399'));
  writeFileSync(join(flowsDir, 'huge.yaml'), gotoChainYaml(50_000, 'huge', '12398'));
  writeFileSync(
    join(flowsDir, 'nested.yaml'),
    `id: nested\nstart: a\ndescription: ${'['.repeat(100_000)}${']'.repeat(100_000)}\nnodes:\n  a: { type: hangup }\n`,
  );
  writeFileSync(join(flowsDir, 'bomb.yaml'), aliasBombYaml());
  lab = await startLab('flow-limits', 37, { flowsDir });
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady(30_000);
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
  rmSync(flowsDir, { recursive: true, force: true });
});

t.test("a controller started with pathological flow files is ready and names each one's error", async (t) => {
  const status = await flowStatus();
  for (const file of ['deep.yaml', 'huge.yaml', 'nested.yaml', 'bomb.yaml']) {
    t.equal(status.get(file)?.version, null, `${file} does not serve`);
    t.match(
      status.get(file)?.errors.join('\n'),
      new RegExp(`^\\S*/${file}:\\d+:\\d+: REXIAN_FLOW_TOO_LARGE: `),
      `${file} is refused with the limit it breaks`,
    );
  }
  t.equal(status.get('main-12345.yaml')?.flowId, 'main-12345');
  t.ok(status.get('main-12345.yaml')?.version, 'the shipped 12345 flow serves');
  t.same(status.get('main-12345.yaml')?.errors, []);
});

t.test('a citizen calling 12345 meanwhile hears the shipped greeting', async (t) => {
  const from = controller.logs.length;
  const sipp = runSipp({
    scenario: citizenScenario([], { hangUpAfterMs: 3000 }),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: '12345',
    localPort: lab.ports.sipp,
    mediaPort: lab.ports.sippMedia,
    keys: { caller: '13800138000' },
    timeoutSec: 60,
  });
  const entered = await controller.waitForEvent(LogEvent.callEntered, (l) => l.did === '12345', 15_000, from);
  const greeting = await controller.waitForEvent(
    LogEvent.promptPlaying,
    (l) => l.callId === entered.callId && l.node === 'greeting',
    15_000,
    from,
  );
  t.same(greeting.prompts, ['welcome'], 'the main flow answers');
  t.equal((await sipp.done).exitCode, 0, 'the call went normally');
});

t.test('a pathological file written while the controller runs is refused, and the controller stays up', async (t) => {
  const from = controller.logs.length;
  writeFileSync(join(flowsDir, 'deep-edit.yaml'), gotoChainYaml(5000, 'deep-edit', '12397'));
  writeFileSync(
    join(flowsDir, 'nested-edit.yaml'),
    `id: nested-edit\nstart: a\nx: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\nnodes:\n  a: { type: hangup }\n`,
  );
  await controller.waitForEvent(
    LogEvent.flowRejected,
    (l) => l.serving === null && String(l.file).endsWith('nested-edit.yaml'),
    15_000,
    from,
  );
  t.ok(controller.running, 'the controller is still running');
  t.equal((await controller.readyz()).status, 200, 'and ready');
  const status = await flowStatus();
  t.match(
    status.get('deep-edit.yaml')?.errors.join('\n'),
    /REXIAN_FLOW_TOO_LARGE: the flow has 5000 nodes; a flow may have at most 2000/,
  );
  t.match(status.get('nested-edit.yaml')?.errors.join('\n'), /REXIAN_FLOW_TOO_LARGE/);
  t.ok(status.get('main-12345.yaml')?.version, 'the 12345 flow still serves');
});
