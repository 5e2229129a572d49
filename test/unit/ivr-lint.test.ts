import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { loadCalendar } from '../../src/ivr/calendar.js';
import { lintFlows } from '../../src/ivr/lint.js';
import { checkFlowFiles, flowFilesIn } from '../../src/ivr/registry.js';
import { lintContext, lintYaml, load } from '../helpers/flows.js';

const codes = (issues: Array<{ code: string }>) => issues.map((i) => i.code);

t.test('the shipped flows lint clean', async (t) => {
  const dir = join(repoRoot, 'ivr-flows');
  const { loaded, issues } = checkFlowFiles(
    flowFilesIn(dir),
    {
      flowsDir: dir,
      queuesFile: join(repoRoot, 'sip-config/queues.yaml'),
      promptCatalog: join(repoRoot, 'prompts/catalog.yaml'),
      recordedDir: join(repoRoot, 'prompts/recorded'),
    },
    loadCalendar(join(dir, 'calendar.yaml')),
  );
  t.same(issues, []);
  t.same(loaded.map((l) => l.flow.id).sort(), ['legacy-lines', 'main-12345', 'outbound-callback', 'survey']);
});

t.test('a target that does not exist is named with its option, position and a suggestion', async (t) => {
  const issues = lintYaml(`id: t
start: m
nodes:
  m:
    type: menu
    prompt: menu
    options:
      "1": enterprse
      "2": talent
    noInput: { next: general }
    invalid: { next: general }
  enterprise: { type: queue, queue: enterprise }
  talent: { type: queue, queue: talent }
  general: { type: queue, queue: general }
`);
  const dangling = issues.find((i) => i.code === 'REXIAN_FLOW_DANGLING_TARGET');
  t.equal(
    dangling?.message,
    'node "m" option 1 points to "enterprse" which does not exist (did you mean "enterprise"?)',
  );
  t.same([dangling?.line, dangling?.col], [8, 7]);
  t.ok(codes(issues).includes('REXIAN_FLOW_UNREACHABLE_NODE'), 'and enterprise is now unreachable');
});

t.test('unreachable nodes are reported', async (t) => {
  const issues = lintYaml('id: t\nstart: a\nnodes:\n  a: { type: hangup }\n  orphan: { type: hangup }\n');
  t.same(codes(issues), ['REXIAN_FLOW_UNREACHABLE_NODE']);
  t.equal(issues[0]!.node, 'orphan');
  t.equal(issues[0]!.line, 5);
});

t.test('a key the prompt announces but the menu does not map', async (t) => {
  const inline = lintYaml(`id: t
start: m
nodes:
  m: { type: menu, prompt: { text: 查询请按1，投诉请按2，人工请按0 }, options: { "1": q, "0": q }, noInput: { next: q }, invalid: { next: q } }
  q: { type: queue, queue: general }
`);
  t.same(codes(inline), ['REXIAN_FLOW_MENU_UNMAPPED_KEY']);
  t.match(inline[0]!.message, /tells callers to press 2/);
  const catalogue = lintYaml(`id: t
start: m
nodes:
  m: { type: menu, prompt: menu, options: { "1": q }, noInput: { next: q }, invalid: { next: q } }
  q: { type: queue, queue: general }
`);
  t.same(codes(catalogue), ['REXIAN_FLOW_MENU_UNMAPPED_KEY'], 'also for catalogue prompts ("人才请按2")');
});

t.test('a menu with no way out', async (t) => {
  const issues = lintYaml(`id: t
start: m
nodes:
  m: { type: menu, prompt: welcome, options: { "1": m, "2": again }, noInput: { next: m }, invalid: { next: m } }
  again: { type: play, prompt: welcome, next: m }
`);
  t.ok(codes(issues).includes('REXIAN_FLOW_MENU_NO_WAY_OUT'));
});

t.test('loops with no input and no exit', async (t) => {
  const spin = lintYaml(`id: t
start: a
nodes:
  a: { type: set, vars: { x: "1" }, next: b }
  b: { type: branch, conditions: [ { when: { var: { name: x, equals: "2" } }, next: done } ], otherwise: a }
  done: { type: hangup }
`);
  t.ok(
    spin.some((i) => i.code === 'REXIAN_FLOW_SILENT_LOOP' && /spin forever/.test(i.message)),
    'a set/branch cycle would spin',
  );
  const talkForever = lintYaml(`id: t
start: a
nodes:
  a: { type: play, prompt: welcome, next: b }
  b: { type: play, prompt: bye, next: a }
`);
  t.ok(
    talkForever.some((i) => i.code === 'REXIAN_FLOW_SILENT_LOOP' && /never reaches/.test(i.message)),
    'prompts forever with no exit',
  );
});

t.test('missing prompts, unknown queues, schedules and subflows', async (t) => {
  const issues = lintYaml(`id: t
start: a
nodes:
  a: { type: play, prompt: welcom, next: b }
  b: { type: branch, conditions: [ { when: { hours: { schedule: offise, is: open } }, next: c } ], otherwise: d }
  c: { type: queue, queue: generl }
  d: { type: subflow, flow: nowhere, next: c }
`);
  t.same(codes(issues).sort(), [
    'REXIAN_FLOW_MISSING_PROMPT',
    'REXIAN_FLOW_UNKNOWN_FLOW',
    'REXIAN_FLOW_UNKNOWN_QUEUE',
    'REXIAN_FLOW_UNKNOWN_SCHEDULE',
  ]);
  t.match(issues.find((i) => i.code === 'REXIAN_FLOW_UNKNOWN_QUEUE')!.message, /did you mean "general"/);
});

t.test('bad patterns and emergency numbers', async (t) => {
  const issues = lintYaml(`id: t
start: a
nodes:
  a: { type: collect, prompt: welcome, var: code, maxLength: 18, pattern: "[0-9", next: b, noInput: { next: b }, invalid: { next: b } }
  b: { type: branch, conditions: [ { when: { did: ["12345"] }, next: c } ], otherwise: e }
  c: { type: transfer, kind: emergency, number: "12345" }
  e: { type: transfer, kind: external, number: "110" }
`);
  t.same(codes(issues).sort(), [
    'REXIAN_FLOW_BAD_PATTERN',
    'REXIAN_FLOW_EMERGENCY_NUMBER',
    'REXIAN_FLOW_EMERGENCY_NUMBER',
  ]);
  t.match(issues.find((i) => i.node === 'c')!.message, /110, 119, 120 or 122 only/);
  t.match(issues.find((i) => i.node === 'e')!.message, /use kind: emergency/);
});

t.test('a transfer to a number nobody may dial through the hotline is refused, at its line', async (t) => {
  const issues = lintYaml(`id: t
start: a
nodes:
  a: { type: branch, conditions: [ { when: { did: ["12345"] }, next: b } ], otherwise: c }
  b: { type: transfer, kind: external, number: "0044207946000" }
  c: { type: transfer, kind: external, number: "01088886666" }
`);
  t.same(codes(issues), ['REXIAN_FLOW_BAD_NUMBER'], 'the Beijing landline passes, the call abroad does not');
  t.match(issues[0]!.message, /node "b" number "0044207946000" is an international number/);
  t.equal(issues[0]!.line, 5);
});

t.test('a number answered by two flows is refused on the second', async (t) => {
  const first = load('id: first\nnumbers: ["12345"]\nstart: a\nnodes:\n  a: { type: hangup }\n', 'first.yaml');
  const second = load(
    'id: second\nnumbers: ["12315", "12345"]\nstart: a\nnodes:\n  a: { type: hangup }\n',
    'second.yaml',
  );
  const issues = lintFlows([first, second], lintContext);
  t.equal(issues.length, 1);
  t.same([issues[0]!.file, issues[0]!.line, issues[0]!.code], ['second.yaml', 2, 'REXIAN_FLOW_DUPLICATE_NUMBER']);
  t.match(issues[0]!.message, /number 12345 is already answered by flow "first"/);
});
