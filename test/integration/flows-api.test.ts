// The ops console's API on the real controller: each flow file's status, its picture and a
// simulated call; "check before saving", which must change nothing that serves (a SIPp citizen
// still reaches the version serving before); the config status with a refused reload's
// file:line:col; and who may use any of it (ops and admins; an agent gets 403).
import { type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import type { ConfigStatusView } from '../../src/config/reload-status.js';
import { LogEvent } from '../../src/events/log-events.js';
import type { CheckView, FlowListView, SimulationView } from '../../src/ivr/flow-api-types.js';
import { ControllerProcess } from '../helpers/controller.js';
import { greetingFlows, type Lab, startLab, until } from '../helpers/lab.js';
import { dialCitizen } from '../helpers/sipp.js';

const tokens = { agent: 'flows-api-agent-token-0123456789', ops: 'flows-api-ops-token-0123456789' };
let lab: Lab;
let controller: ControllerProcess;
let dir: string;
let flowsDir: string;
let queuesFile: string;

t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rexian-flows-api-'));
  flowsDir = join(dir, 'flows');
  cpSync(greetingFlows, flowsDir, { recursive: true });
  queuesFile = join(dir, 'queues.yaml');
  cpSync(join(repoRoot, 'sip-config/queues.yaml'), queuesFile);
  const config = join(dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 王芳, role: agent, agent: "1001", token: ${tokens.agent} }
    - { name: 值班运维, role: ops, token: ${tokens.ops} }
`,
  );
  lab = await startLab('flows-api', 83, { flowsDir, queuesFile });
  controller = new ControllerProcess({ ...lab.env, REXIAN_CONFIG: config }, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function as<T>(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers; text: string }> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') && text ? (JSON.parse(text) as T) : (undefined as T);
  return { status: res.status, body: json, headers: res.headers, text };
}

const greeting = async () => {
  const res = await as<FlowListView>(tokens.ops, 'GET', '/api/flows');
  return res.body.flows.find((f) => f.file === 'greeting.yaml')!;
};

t.test(
  'ops see the version serving each flow file, the numbers it answers and that the disk is what serves',
  async (t) => {
    const res = await as<FlowListView>(tokens.ops, 'GET', '/api/flows');
    t.equal(res.status, 200);
    t.ok(res.body.checkedAt, 'when the directory was read');
    const g = res.body.flows.find((f) => f.file === 'greeting.yaml');
    t.match(g, { flowId: 'greeting', state: 'serving', numbers: ['12345'], issues: [], errors: [] });
    t.equal(g?.diskVersion, g?.version);
    t.equal(g?.history[0]?.version, g?.version);
  },
);

t.test(
  'a broken flow posted to check is answered with its file:line:col errors and changes nothing that serves',
  async (t) => {
    const before = await greeting();
    const filesBefore = readdirSync(flowsDir).sort();
    const broken =
      [
        'id: greeting',
        'numbers: ["12345"]',
        'start: greeting',
        'nodes:',
        '  greeting: { type: play, prompt: welcome, next: byebye }',
        '  bye: { type: hangup, prompt: goodbye }',
      ].join('\n') + '\n';
    const res = await as<CheckView>(tokens.ops, 'POST', '/api/flows/check', {
      file: 'greeting.yaml',
      source: broken,
      simulate: { keys: '' },
    });
    t.equal(res.status, 200);
    t.equal(res.body.ok, false);
    t.equal(res.body.replaces, before.version, 'it names the version an edit would replace');
    t.match(res.body.issues, [
      { code: 'REXIAN_FLOW_DANGLING_TARGET', file: 'greeting.yaml', line: 5, node: 'greeting', severity: 'error' },
    ]);
    t.ok(res.body.issues[0]!.col > 1, 'with the column of the bad target');
    t.equal(res.body.simulation, null);
    t.match(res.body.svg, /^<svg /, 'a flow that parsed is drawn, errors and all');

    t.same(readdirSync(flowsDir).sort(), filesBefore, 'nothing was written to the flows directory');
    t.equal(readFileSync(join(flowsDir, 'greeting.yaml'), 'utf8').includes('byebye'), false);
    const after = await greeting();
    t.equal(after.version, before.version, 'the serving version is unchanged');
    t.equal(after.state, 'serving');

    const from = controller.logs.length;
    const sipp = dialCitizen(lab, { scenario: 'citizen-waits-for-bye.xml', caller: '13800138000', timeoutSec: 40 });
    const started = await controller.waitForEvent(LogEvent.flowStarted, undefined, 15_000, from);
    t.equal(started.flowVersion, before.version, 'a citizen calling now gets the version serving before');
    const result = await sipp.done;
    t.equal(result.exitCode, 0, `the call went normally: ${result.errors}`);
  },
);

t.test('a good flow posted to check is simulated with the keys given, and still does not serve', async (t) => {
  const before = await greeting();
  const source = `id: greeting
numbers: ["12345"]
start: menu
nodes:
  menu:
    type: menu
    prompt: { text: 请按1。 }
    options: { "1": general }
    noInput: { next: bye }
    invalid: { next: bye }
  general: { type: queue, queue: general }
  bye: { type: hangup, prompt: goodbye }
`;
  const res = await as<CheckView>(tokens.ops, 'POST', '/api/flows/check', {
    file: 'greeting.yaml',
    source,
    simulate: { keys: '1', time: '2026-11-23T20:00' },
  });
  t.equal(res.status, 200);
  t.equal(res.body.ok, true, JSON.stringify(res.body.issues));
  t.match(res.body.simulation, { path: ['menu', 'general'], outcome: { type: 'queue', queue: 'general' }, keys: '1' });
  t.equal((await greeting()).version, before.version, 'still the version from disk');
});

t.test('a file name with a directory in it, or a body of the wrong shape, is refused', async (t) => {
  const res = await as<{ error: { code: string } }>(tokens.ops, 'POST', '/api/flows/check', {
    file: '../queues.yaml',
    source: 'x',
  });
  t.equal(res.status, 400);
  t.equal(res.body.error.code, 'REXIAN_BAD_REQUEST');
  const extra = await as<{ error: { code: string } }>(tokens.ops, 'POST', '/api/flows/check', {
    file: 'a.yaml',
    source: 'x',
    write: true,
  });
  t.equal(extra.status, 400);
});

t.test("a flow's picture is a sanitized SVG served with a strict CSP", async (t) => {
  const res = await as(tokens.ops, 'GET', '/api/flows/greeting/graph.svg');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^image\/svg\+xml/);
  t.match(res.headers.get('content-security-policy'), /default-src 'none'/);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  t.match(res.text, /<title>greeting<\/title>/);
  t.match(res.text, /<title>greeting&#45;&gt;bye<\/title>/, 'edges are titled from->to');
  t.notMatch(res.text, /<script|<a |href=|on[a-z]+=/i);
  const missing = await as<{ error: { code: string } }>(tokens.ops, 'GET', '/api/flows/nope/graph.svg');
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'REXIAN_NOT_FOUND');
});

t.test('a simulated call through a flow in service returns its path and outcome', async (t) => {
  const res = await as<SimulationView>(tokens.ops, 'POST', '/api/flows/greeting/simulate', { caller: '13900000000' });
  t.equal(res.status, 200);
  t.match(res.body, { did: '12345', caller: '13900000000', path: ['greeting', 'bye'], outcome: { type: 'hangup' } });
  const bad = await as(tokens.ops, 'POST', '/api/flows/greeting/simulate', { keys: 'abc' });
  t.equal(bad.status, 400);
});

t.test('an edit saved broken keeps the last good version serving and the status says where it breaks', async (t) => {
  const before = await greeting();
  const good = readFileSync(join(flowsDir, 'greeting.yaml'), 'utf8');
  writeFileSync(join(flowsDir, 'greeting.yaml'), good.replace('next: bye', 'next: gone'));
  const refused = await until('the edit is refused', async () => {
    const g = await greeting();
    return g.state === 'last-good' ? g : undefined;
  });
  t.equal(refused.version, before.version, 'the last good version keeps serving');
  t.not(refused.diskVersion, before.version);
  t.match(refused.issues, [{ code: 'REXIAN_FLOW_DANGLING_TARGET', file: 'greeting.yaml', node: 'greeting' }]);
  writeFileSync(join(flowsDir, 'greeting.yaml'), good);
  await until('the file serves again', async () => (await greeting()).state === 'serving');
});

t.test('the config status lists what is loaded and a refused reload with its file:line:col', async (t) => {
  const first = await as<ConfigStatusView>(tokens.ops, 'GET', '/api/config/status');
  t.equal(first.status, 200);
  const queues = first.body.files.find((f) => f.kind === 'queues');
  t.equal(queues?.file, queuesFile);
  t.ok(queues!.count > 0 && queues!.ids.includes('general'), 'the queues loaded');
  t.equal(first.body.lastReload, null, 'no reload yet');

  const good = readFileSync(queuesFile, 'utf8');
  writeFileSync(queuesFile, `${good}\nnotAKey: 1\n`);
  // The controller is our child (node running src/main.ts): SIGHUP is its reload.
  (controller as unknown as { child: ChildProcess }).child.kill('SIGHUP');
  const refused = await until('the reload is refused', async () => {
    const s = await as<ConfigStatusView>(tokens.ops, 'GET', '/api/config/status');
    return s.body.lastReload ? s.body : undefined;
  });
  t.match(refused.lastReload, { ok: false, code: 'REXIAN_QUEUES_INVALID' });
  const line = good.split('\n').length + 1;
  t.match(refused.lastReload?.problems, [{ file: queuesFile, line, col: 1, message: /notAKey/ }]);
  t.equal(refused.loadedAt, first.body.loadedAt, 'the version loaded at start keeps serving');

  writeFileSync(queuesFile, good);
  (controller as unknown as { child: ChildProcess }).child.kill('SIGHUP');
  const passed = await until('the reload passes', async () => {
    const s = await as<ConfigStatusView>(tokens.ops, 'GET', '/api/config/status');
    return s.body.lastReload?.ok ? s.body : undefined;
  });
  t.same(passed.lastReload?.problems, []);
  t.not(passed.loadedAt, first.body.loadedAt);
});

t.test('an agent gets 403 on every ops route, and nobody gets in without a token', async (t) => {
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/api/flows'],
    ['GET', '/api/flows/greeting/graph.svg'],
    ['POST', '/api/flows/greeting/simulate', {}],
    ['POST', '/api/flows/check', { file: 'a.yaml', source: 'id: a' }],
    ['GET', '/api/config/status'],
  ];
  for (const [method, path, body] of routes) {
    const agent = await as<{ error: { code: string } }>(tokens.agent, method, path, body);
    t.equal(agent.status, 403, `${method} ${path}: agent refused`);
    t.equal(agent.body.error.code, 'REXIAN_FORBIDDEN');
    const nobody = await as(undefined, method, path, body);
    t.equal(nobody.status, 401, `${method} ${path}: no token refused`);
  }
});
