// What keeps a flow reload cheap on the event loop that also carries calls and the ARI lease:
// a file is parsed again only when its text changed, flow-style brackets nested hundreds deep
// are refused before the parser recurses into them, and a file still broken the same way is
// not reported again on every other file's edit.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { flowBracketsTooDeep, parseFlow } from '../../src/ivr/loader.js';
import { FlowRegistry, loadFlowFile } from '../../src/ivr/registry.js';

t.test('a file is parsed again only when its text changed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-reload-'));
  const file = join(dir, 'a.yaml');
  writeFileSync(file, 'id: a\nstart: x\nnodes:\n  x: { type: hangup }\n');
  const cache = new Map<string, ReturnType<typeof loadFlowFile>>();
  const first = loadFlowFile(file, cache);
  t.ok(first.loaded);
  t.equal(loadFlowFile(file, cache), first, 'the same text: the last parse, not a new one');
  writeFileSync(file, 'id: a\nstart: x\nnodes:\n  x: { type: hangup, prompt: goodbye }\n');
  const second = loadFlowFile(file, cache);
  t.not(second, first, 'an edit is parsed');
  t.not(second.version, first.version);
});

t.test('brackets nested past what the parser survives quickly are found in one pass, with where', async (t) => {
  t.equal(flowBracketsTooDeep('a: [[1], {b: [2]}]\n', 3), undefined);
  t.same(flowBracketsTooDeep('a: 1\nb: [[[[x]]]]\n', 3), { line: 2, col: 7 }, 'the fourth opening bracket');
  t.equal(flowBracketsTooDeep(`a: "${'['.repeat(50)}"\nb: '${'{'.repeat(50)}'\n`, 3), undefined, 'not in quotes');
  t.equal(flowBracketsTooDeep(`a: 1 # ${'['.repeat(50)}\n`, 3), undefined, 'not in a comment');
  t.equal(flowBracketsTooDeep(`a: "x\\"${'['.repeat(50)}"\n`, 3), undefined, 'an escaped quote stays in the string');
  t.equal(flowBracketsTooDeep(`a: 'it''s ${'['.repeat(50)}'\n`, 3), undefined, "a doubled '' stays in the string");
  const started = performance.now();
  const deep = `id: t\nstart: a\nx: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\nnodes:\n  a: { type: hangup }\n`;
  const result = parseFlow('deep.yaml', deep);
  const ms = performance.now() - started;
  t.same(
    result.issues.map((i) => [i.code, i.line]),
    [['REXIAN_FLOW_TOO_LARGE', 3]],
  );
  t.ok(ms < 100, `refused in ${ms.toFixed(1)} ms, before the parser recursed`);
});

t.test('a file still broken the same way is reported once, not on every other edit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rexian-reload-'));
  writeFileSync(join(dir, 'calendar.yaml'), 'timezone: Asia/Shanghai\nschedules: {}\n');
  writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nstart: nowhere\nnodes:\n  a: { type: hangup }\n');
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const registry = new FlowRegistry(
    { flowsDir: dir, queuesFile: 'sip-config/queues.yaml', promptCatalog: 'prompts/catalog.yaml', recordedDir: dir },
    logger,
  );
  const rejections = () =>
    lines.filter((l) => l.event === LogEvent.flowRejected && String(l.file).endsWith('broken.yaml'));
  registry.reload();
  t.equal(rejections().length, 1, 'reported');
  writeFileSync(join(dir, 'other.yaml'), 'id: other\nstart: x\nnodes:\n  x: { type: hangup }\n');
  registry.reload();
  t.equal(rejections().length, 1, "another file's edit does not report it again");
  writeFileSync(join(dir, 'broken.yaml'), 'id: broken\nstart: elsewhere\nnodes:\n  a: { type: hangup }\n');
  registry.reload();
  t.equal(rejections().length, 2, 'its own new error is reported');
});
