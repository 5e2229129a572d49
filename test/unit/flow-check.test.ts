// "Check before saving" and the flow status ops see, on the shipped flows: an edit is linted
// against the flows in service and simulated without it serving; the registry tells which
// version serves, whether the text on disk is it, and the errors of a refused edit by position.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pino } from 'pino';
import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { checkFlowEdit, simulateServing, simulationTime } from '../../src/ivr/flow-check.js';
import { flowList } from '../../src/ivr/flow-status.js';
import { FlowRegistry } from '../../src/ivr/registry.js';
import { scratchDir } from '../helpers/scratch.js';

function registryOn(dir: string): FlowRegistry {
  const registry = new FlowRegistry(
    {
      flowsDir: dir,
      queuesFile: join(repoRoot, 'sip-config/queues.yaml'),
      promptCatalog: join(repoRoot, 'prompts/catalog.yaml'),
      recordedDir: join(repoRoot, 'prompts/recorded'),
    },
    pino({ level: 'silent' }),
  );
  registry.reload();
  return registry;
}

function shippedCopy(name: string): string {
  const dir = scratchDir(name);
  cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
  return dir;
}

const mainSource = readFileSync(join(repoRoot, 'ivr-flows/main-12345.yaml'), 'utf8');

t.test('a broken edit is answered with its line:col and node, and nothing on disk or in service changes', async (t) => {
  const dir = shippedCopy('check-broken');
  const registry = registryOn(dir);
  const before = registry.current('main-12345')!.version;
  const filesBefore = readdirSync(dir).sort();
  const broken = mainSource.replace('      "1": enterprise', '      "1": enterprize');
  const result = await checkFlowEdit(registry, { file: 'main-12345.yaml', source: broken });
  t.equal(result.ok, false);
  t.equal(result.replaces, before, 'it names the version it would replace');
  const dangling = result.issues.find((i) => i.code === 'REXIAN_FLOW_DANGLING_TARGET');
  const line = broken.split('\n').findIndex((l) => l.includes('enterprize')) + 1;
  t.match(dangling, { file: 'main-12345.yaml', line, node: 'main-menu', severity: 'error' });
  t.equal(result.simulation, null, 'a flow with errors is not simulated');
  t.equal(registry.current('main-12345')!.version, before, 'the serving version is unchanged');
  t.same(readdirSync(dir).sort(), filesBefore, 'nothing was written');
});

t.test('a good edit is simulated with the keys given, offline, against the subflows in service', async (t) => {
  const registry = registryOn(shippedCopy('check-good'));
  const edited = mainSource.replace('bargeIn: true', 'bargeIn: false');
  const result = await checkFlowEdit(registry, {
    file: 'main-12345.yaml',
    source: edited,
    simulate: { keys: '2', time: '2026-11-23T10:00', http: 'real' },
  });
  t.equal(result.ok, true, JSON.stringify(result.issues));
  t.not(result.version, result.replaces, 'the edit is a new version');
  t.match(result.simulation, { http: 'offline', outcome: { type: 'queue', queue: 'talent' } });
  t.same(result.simulation!.path.slice(-2), ['main-menu', 'talent']);
  t.equal(result.simulation!.at, '2026-11-23T02:00:00.000Z', 'a time without an offset is Beijing time');
});

t.test('a new file claiming a number in service is the one refused', async (t) => {
  const registry = registryOn(shippedCopy('check-duplicate'));
  const result = await checkFlowEdit(registry, {
    file: 'another.yaml',
    source: 'id: another\nnumbers: ["12345"]\nstart: bye\nnodes:\n  bye: { type: hangup }\n',
  });
  t.equal(result.ok, false);
  t.match(result.issues, [{ code: 'REXIAN_FLOW_DUPLICATE_NUMBER', file: 'another.yaml', line: 2 }]);
  t.equal(result.replaces, null);
});

t.test('text past the size limit is refused by the loader, as a file would be', async (t) => {
  const registry = registryOn(shippedCopy('check-large'));
  const result = await checkFlowEdit(registry, { file: 'big.yaml', source: `# ${'x'.repeat(600 * 1024)}\n` });
  t.match(result.issues, [{ code: 'REXIAN_FLOW_TOO_LARGE', line: 1, col: 1 }]);
});

t.test('a file name with a directory in it is refused', async (t) => {
  const registry = registryOn(shippedCopy('check-name'));
  await t.rejects(checkFlowEdit(registry, { file: '../queues.yaml', source: 'id: x' }), {
    code: 'REXIAN_BAD_REQUEST',
  });
  await t.rejects(checkFlowEdit(registry, { file: 'calendar.yaml', source: 'id: x' }), {
    code: 'REXIAN_BAD_REQUEST',
  });
});

t.test('the status says when an edit was refused and the last good version keeps serving', async (t) => {
  const dir = shippedCopy('status-last-good');
  const registry = registryOn(dir);
  const first = flowList(registry).flows.find((f) => f.file === 'main-12345.yaml')!;
  t.match(first, { state: 'serving', flowId: 'main-12345', numbers: ['12345'], issues: [] });
  t.equal(first.diskVersion, first.version, 'what is on disk serves');

  writeFileSync(join(dir, 'main-12345.yaml'), mainSource.replace('start: greeting', 'start: greting'));
  registry.reload();
  const refused = flowList(registry).flows.find((f) => f.file === 'main-12345.yaml')!;
  t.equal(refused.state, 'last-good');
  t.equal(refused.version, first.version, 'the last good version keeps serving');
  t.not(refused.diskVersion, refused.version, 'the text on disk is not what serves');
  t.match(refused.issues, [{ code: 'REXIAN_FLOW_DANGLING_TARGET', line: 6, col: 1, severity: 'error' }]);
  t.match(refused.errors[0], /main-12345\.yaml:6:1: REXIAN_FLOW_DANGLING_TARGET: /, 'the text form stays');

  writeFileSync(join(dir, 'main-12345.yaml'), mainSource.replace('bargeIn: true', 'bargeIn: false'));
  registry.reload();
  const fixed = flowList(registry).flows.find((f) => f.file === 'main-12345.yaml')!;
  t.equal(fixed.state, 'serving');
  t.same(
    fixed.history.map((h) => h.version),
    [fixed.version, first.version],
    'the versions served, newest first',
  );
});

t.test('a flow in service is simulated by id; an unknown id is not found', async (t) => {
  const registry = registryOn(shippedCopy('simulate-serving'));
  const result = await simulateServing(registry, 'main-12345', { keys: '1', time: '2026-11-23T10:00:00+08:00' });
  t.match(result, { did: '12345', outcome: { type: 'queue', queue: 'enterprise' } });
  t.equal(result.path[0], 'greeting');
  await t.rejects(simulateServing(registry, 'nope', {}), { code: 'REXIAN_NOT_FOUND' });
});

t.test('a simulation time that is not a date and time is refused', async (t) => {
  t.throws(() => simulationTime('tomorrow'), { code: 'REXIAN_BAD_REQUEST' });
  t.equal(simulationTime('2026-11-23T20:00:00Z').toISOString(), '2026-11-23T20:00:00.000Z');
});
