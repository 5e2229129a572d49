import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { flowSchema } from '../../src/ivr/flow-schema.js';
import { scratchDir } from '../helpers/scratch.js';

function rexian(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin/rexian.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

t.test('rexian flow lint passes on the shipped flows', async (t) => {
  const run = rexian('flow', 'lint', 'ivr-flows');
  t.equal(run.status, 0, run.stdout + run.stderr);
  t.match(run.stdout, /ok: 4 flows/);
});

t.test('rexian flow lint fails with file:line:col on a broken copy', async (t) => {
  const dir = scratchDir('flows');
  cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
  const file = join(dir, 'main-12345.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"1": enterprise', '"1": enterprse'));
  const run = rexian('flow', 'lint', dir);
  t.equal(run.status, 1);
  t.match(
    run.stdout,
    new RegExp(`${file}:\\d+:\\d+: REXIAN_FLOW_DANGLING_TARGET: node "main-menu" option 1 points to "enterprse"`),
  );
});

t.test('rexian flow simulate prints the path and the outcome as JSON', async (t) => {
  const run = rexian(
    'flow',
    'simulate',
    'ivr-flows/main-12345.yaml',
    '--did',
    '12345',
    '--dtmf',
    '1',
    '--at',
    '2026-11-23T20:00:00+08:00',
    '--caller',
    '13800000000',
    '--json',
  );
  t.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.same(out.path, ['greeting', 'holiday-check', 'main-menu', 'enterprise']);
  t.same(out.outcome, { type: 'queue', queue: 'enterprise', skills: ['enterprise'], priority: 0 });
  const emergency = JSON.parse(
    rexian('flow', 'simulate', 'ivr-flows/main-12345.yaml', '--dtmf', '93', '--json').stdout,
  );
  t.same(emergency.outcome, { type: 'transfer', kind: 'emergency', number: '120' });
  const bad = rexian('flow', 'simulate', 'ivr-flows/main-12345.yaml', '--dtmf', '1a');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--dtmf "1a" may hold only 0-9, \* and #/);
});

t.test('rexian flow graph draws an SVG', async (t) => {
  const out = join(scratchDir('graph'), 'main.svg');
  const run = rexian('flow', 'graph', 'ivr-flows/main-12345.yaml', '-o', out);
  t.equal(run.status, 0, run.stderr);
  t.ok(existsSync(out));
  t.match(readFileSync(out, 'utf8'), /<svg[\s\S]*main(&#45;|-)menu[\s\S]*queue enterprise/);
});

t.test('the published JSON Schema is the one the loader uses', async (t) => {
  t.same(
    JSON.parse(readFileSync(join(repoRoot, 'ivr-flows/flow.schema.json'), 'utf8')),
    JSON.parse(JSON.stringify(flowSchema)),
    'run `rexian flow schema -o ivr-flows/flow.schema.json` after changing the schema',
  );
});
