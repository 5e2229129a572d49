// Pathological flow files (very deep, very large, alias bombs, deep nesting, subflows that call
// themselves) must cost only themselves: refused quickly with an error that names file:line:col
// and the limit, never a stack overflow, a stalled lint or a controller that cannot start.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pino } from 'pino';
import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { loadCalendar } from '../../src/ivr/calendar.js';
import { FLOW_LIMITS } from '../../src/ivr/flow-limits.js';
import type { FlowNode } from '../../src/ivr/flow-schema.js';
import { lintFlows } from '../../src/ivr/lint.js';
import { formatIssue, type LoadedFlow, parseFlow } from '../../src/ivr/loader.js';
import { checkFlowFiles, FlowRegistry, type FlowSources } from '../../src/ivr/registry.js';
import { simulate } from '../../src/ivr/simulator.js';
import { lintContext, refOf, testCalendar } from '../helpers/flows.js';
import { scratchDir } from '../helpers/scratch.js';

/** A flow of `n` goto nodes in a chain, ending in a hangup, as a flow editor would save it. */
function gotoChainYaml(n: number, id = 'deep', number = '12399'): string {
  const lines = [`id: ${id}`, `numbers: ["${number}"]`, 'start: n0', 'nodes:'];
  for (let i = 0; i < n - 1; i++) lines.push(`  n${i}: { type: goto, target: n${i + 1} }`);
  lines.push(`  n${n - 1}: { type: hangup }`);
  return `${lines.join('\n')}\n`;
}

/** A flow built in memory (bypassing the loader), to load the lint passes alone. */
function inMemory(nodes: Record<string, FlowNode>, start = 'n0'): LoadedFlow {
  return {
    file: 'big.yaml',
    flow: { id: 'big', start, nodes },
    version: 'v',
    source: '',
    locate: () => ({ line: 1, col: 1 }),
  };
}

function elapsed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

function sourcesFor(dir: string): FlowSources {
  return {
    flowsDir: dir,
    queuesFile: join(repoRoot, 'sip-config/queues.yaml'),
    promptCatalog: join(repoRoot, 'prompts/catalog.yaml'),
    recordedDir: join(repoRoot, 'prompts/recorded'),
  };
}

t.test('a 5,000-node goto chain is refused with the size limit at the nodes key, without throwing', async (t) => {
  const { value: result, ms } = elapsed(() => parseFlow('deep.yaml', gotoChainYaml(5000)));
  t.notOk(result.loaded, 'the flow does not load');
  t.equal(result.issues.length, 1, 'one issue, not one per node');
  const issue = result.issues[0]!;
  t.equal(issue.code, 'REXIAN_FLOW_TOO_LARGE');
  t.same([issue.line, issue.col], [4, 1], 'it points at the nodes key');
  t.match(formatIssue(issue), /^deep\.yaml:4:1: REXIAN_FLOW_TOO_LARGE: .*5000 nodes.*at most 2000/);
  // A hang guard, not a benchmark: before the limit this took seconds and then overflowed.
  t.ok(ms < 2000, `refused in ${Math.round(ms)} ms`);
});

t.test('the linter refuses an oversized flow handed to it directly, before any graph pass', async (t) => {
  const nodes: Record<string, FlowNode> = {};
  for (let i = 0; i < 5000; i++) nodes[`n${i}`] = { type: 'goto', target: `n${i + 1}` };
  nodes.n5000 = { type: 'hangup' };
  const issues = lintFlows([inMemory(nodes)], lintContext);
  t.same(
    issues.map((i) => i.code),
    ['REXIAN_FLOW_TOO_LARGE'],
  );
});

t.test(
  'with the limits raised, every lint pass walks a 50,000-node flow iteratively and in near-linear time',
  async (t) => {
    const limits = { ...FLOW_LIMITS, maxNodes: 1_000_000 };
    // A chain: recursion over it overflowed the stack at a few thousand nodes.
    const chain: Record<string, FlowNode> = {};
    for (let i = 0; i < 50_000; i++) chain[`n${i}`] = { type: 'goto', target: `n${i + 1}` };
    chain.n50000 = { type: 'hangup' };
    const deep = elapsed(() => lintFlows([inMemory(chain)], lintContext, limits));
    t.same(deep.value, [], 'a valid chain lints clean');
    t.ok(deep.ms < 2000, `chain linted in ${Math.round(deep.ms)} ms`);

    // One instant loop back to the start from every node: each back edge is a cycle to report.
    const loops: Record<string, FlowNode> = {};
    for (let i = 0; i < 50_000; i++) {
      loops[`n${i}`] = { type: 'branch', conditions: [{ when: { did: ['1'] }, next: 'n0' }], otherwise: `n${i + 1}` };
    }
    loops.n50000 = { type: 'hangup' };
    const spin = elapsed(() => lintFlows([inMemory(loops)], lintContext, limits));
    t.ok(
      spin.value.some((i) => i.code === 'REXIAN_FLOW_SILENT_LOOP'),
      'the loops are found',
    );
    t.ok(spin.value.length <= FLOW_LIMITS.maxIssuesPerFile + 1, `issues are capped (${spin.value.length})`);
    t.ok(spin.ms < 2000, `loops linted in ${Math.round(spin.ms)} ms`);

    // Every node points to a missing target of a similar name: "did you mean" against every node
    // for every target, and a hangup with 25,000 predecessors.
    const dangling: Record<string, FlowNode> = {
      n0: { type: 'menu', prompt: 'menu', options: { 1: 'n1' }, noInput: { next: 'end' }, invalid: { next: 'end' } },
    };
    for (let i = 1; i < 50_000; i++)
      dangling[`n${i}`] = { type: 'play', prompt: 'welcome', next: i % 2 ? `m${i}` : 'end' };
    dangling.end = { type: 'hangup' };
    const typo = elapsed(() => lintFlows([inMemory(dangling)], lintContext, limits));
    t.ok(
      typo.value.some((i) => i.code === 'REXIAN_FLOW_DANGLING_TARGET'),
      'dangling targets are found',
    );
    t.ok(typo.ms < 2000, `dangling targets linted in ${Math.round(typo.ms)} ms`);
  },
);

t.test('a 50,000-node file is refused by its size within a bounded time, naming file:1:1 and the limit', async (t) => {
  const dir = scratchDir('huge-flow');
  const file = join(dir, 'huge.yaml');
  writeFileSync(file, gotoChainYaml(50_000));
  const { value, ms } = elapsed(() =>
    checkFlowFiles([file], sourcesFor(dir), loadCalendar(join(repoRoot, 'ivr-flows/calendar.yaml'))),
  );
  t.equal(value.loaded.length, 0);
  t.same(
    value.issues.map((i) => i.code),
    ['REXIAN_FLOW_TOO_LARGE'],
  );
  t.match(formatIssue(value.issues[0]!), new RegExp(`^${file}:1:1: REXIAN_FLOW_TOO_LARGE: .*at most 512 KiB`));
  t.ok(ms < 2000, `refused in ${Math.round(ms)} ms`);
});

t.test('an alias bomb (billion laughs) is refused at the alias that exceeds the limit', async (t) => {
  const lines = ['id: t', 'start: a', 'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `lol${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    );
  lines.push('nodes:', '  a: { type: hangup }');
  const { value: result, ms } = elapsed(() => parseFlow('bomb.yaml', `${lines.join('\n')}\n`));
  t.notOk(result.loaded);
  t.equal(result.issues[0]?.code, 'REXIAN_FLOW_TOO_LARGE');
  t.match(result.issues[0]?.message, /aliases/);
  t.ok((result.issues[0]?.line ?? 0) > 3, `it names the line of an alias (${result.issues[0]?.line})`);
  t.ok(ms < 2000, `refused in ${Math.round(ms)} ms`);
});

t.test('a wide anchor repeated by a few dozen aliases is refused before it is expanded in memory', async (t) => {
  // Under yaml's own alias cap (50), yet 40 × 100,000 values once expanded.
  const source = `id: t\nstart: a\nwide: &w [${Array(100_000).fill('1').join(',')}]\n${Array.from({ length: 40 }, (_, i) => `copy${i}: *w`).join('\n')}\nnodes:\n  a: { type: hangup }\n`;
  const result = parseFlow('wide.yaml', source);
  t.notOk(result.loaded);
  t.same(
    result.issues.map((i) => i.code),
    ['REXIAN_FLOW_TOO_LARGE'],
  );
  t.match(result.issues[0]!.message, /values/);
});

t.test(
  'nesting deeper than the limit is refused naming the limit, and 100,000 levels neither throw nor hang',
  async (t) => {
    const nested = (depth: number): string =>
      `id: t\nstart: a\ndescription: ${'['.repeat(depth)}${']'.repeat(depth)}\nnodes:\n  a: { type: hangup }\n`;
    const shallow = parseFlow('d.yaml', nested(40));
    t.same(
      shallow.issues.map((i) => i.code),
      ['REXIAN_FLOW_TOO_LARGE'],
    );
    t.match(shallow.issues[0]!.message, /nested more than 32 levels/);
    t.equal(shallow.issues[0]!.line, 3);
    for (const depth of [1000, 100_000]) {
      const { value, ms } = elapsed(() => parseFlow('d.yaml', nested(depth)));
      t.same(
        value.issues.map((i) => i.code),
        ['REXIAN_FLOW_TOO_LARGE'],
        `${depth} levels`,
      );
      t.ok(ms < 2000, `${depth} levels refused in ${Math.round(ms)} ms`);
    }
  },
);

t.test("duplicate node ids are still refused, without the parser's quadratic check", async (t) => {
  const result = parseFlow(
    'dup.yaml',
    'id: t\nstart: a\nnodes:\n  a: { type: hangup }\n  b: { type: hangup }\n  a: { type: goto, target: b }\n',
  );
  t.notOk(result.loaded);
  t.same(
    result.issues.map((i) => [i.code, i.line, i.col]),
    [['REXIAN_FLOW_SYNTAX', 6, 3]],
  );
  t.match(result.issues[0]!.message, /"a".*more than once/);
});

t.test('a flow that calls itself through subflows, or nests them too deep, is refused', async (t) => {
  const flow = (id: string, calls: string): LoadedFlow => {
    const { loaded } = parseFlow(
      `${id}.yaml`,
      `id: ${id}\nstart: s\nnodes:\n  s: { type: subflow, flow: ${calls}, next: e }\n  e: { type: return }\n`,
    );
    return loaded!;
  };
  const loop = lintFlows([flow('a', 'b'), flow('b', 'a')], lintContext);
  t.ok(
    loop.some((i) => i.code === 'REXIAN_FLOW_TOO_LARGE' && /calls itself/.test(i.message) && i.node === 's'),
    'the loop a → b → a is named',
  );
  const chain = Array.from({ length: 12 }, (_, i) => flow(`f${i}`, i < 11 ? `f${i + 1}` : 'f0x'));
  chain[11] = parseFlow('f11.yaml', 'id: f11\nstart: e\nnodes:\n  e: { type: return }\n').loaded!;
  const deep = lintFlows(chain, lintContext);
  const tooDeep = deep.filter((i) => i.code === 'REXIAN_FLOW_TOO_LARGE');
  t.ok(
    tooDeep.length > 0 && tooDeep.every((i) => /subflows nest \d+ levels deep.*at most 8/.test(i.message)),
    tooDeep.map((i) => i.message).join('\n'),
  );
  t.same(
    tooDeep.map((i) => i.file),
    ['f0.yaml', 'f1.yaml', 'f2.yaml'],
    'the flows that start more than 8 nested calls',
  );
  t.same(
    lintFlows(chain.slice(3), lintContext).filter((i) => i.code === 'REXIAN_FLOW_TOO_LARGE'),
    [],
    '8 nested calls are fine',
  );
});

t.test('a lint pass that throws on one flow costs only that flow', async (t) => {
  const good = parseFlow(
    'good.yaml',
    'id: good\nstart: a\nnodes:\n  a: { type: play, prompt: welcome, next: b }\n  b: { type: hangup }\n',
  ).loaded!;
  const cursed = parseFlow(
    'cursed.yaml',
    'id: cursed\nstart: a\nnodes:\n  a: { type: play, prompt: cursed, next: b }\n  b: { type: hangup }\n',
  ).loaded!;
  const context = {
    ...lintContext,
    hasPrompt: (name: string) => {
      if (name === 'cursed') throw new RangeError('Maximum call stack size exceeded');
      return lintContext.hasPrompt(name);
    },
  };
  const issues = lintFlows([good, cursed], context);
  t.same(
    issues.map((i) => [i.file, i.code]),
    [['cursed.yaml', 'REXIAN_FLOW_LINT_FAILED']],
  );
  t.match(issues[0]!.message, /Maximum call stack size exceeded/);
});

t.test(
  "the registry serves the good flows of a directory holding pathological files, and names each one's error",
  async (t) => {
    const dir = scratchDir('pathological-flows');
    cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
    writeFileSync(join(dir, 'deep.yaml'), gotoChainYaml(5000));
    writeFileSync(join(dir, 'huge.yaml'), gotoChainYaml(50_000, 'huge', '12398'));
    writeFileSync(
      join(dir, 'nested.yaml'),
      `id: nested\nstart: a\ndescription: ${'['.repeat(100_000)}${']'.repeat(100_000)}\nnodes:\n  a: { type: hangup }\n`,
    );
    const registry = new FlowRegistry(sourcesFor(dir), pino({ level: 'silent' }));
    const { ms } = elapsed(() => registry.reload());
    t.ok(ms < 5000, `reloaded in ${Math.round(ms)} ms`);
    t.ok(registry.forNumber('12345'), 'the shipped main flow serves');
    t.notOk(registry.forNumber('12399'), 'the deep flow does not');
    const status = new Map(registry.status().map((s) => [s.file, s]));
    for (const file of ['deep.yaml', 'huge.yaml', 'nested.yaml']) {
      t.match(status.get(file)?.errors.join('\n'), /REXIAN_FLOW_TOO_LARGE/, `${file} is reported`);
    }
    t.same(status.get('main-12345.yaml')?.errors, []);

    // A good flow edited into a pathological one keeps its last good version serving.
    const version = registry.forNumber('12345')!.version;
    const main = readFileSync(join(dir, 'main-12345.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'main-12345.yaml'),
      `${main}\n${Array.from({ length: 2500 }, (_, i) => `  x${i}: { type: hangup }`).join('\n')}\n`,
    );
    registry.reload();
    t.equal(registry.forNumber('12345')?.version, version, 'the last good version keeps serving');
    t.match(
      registry
        .status()
        .find((s) => s.file === 'main-12345.yaml')
        ?.errors.join('\n'),
      /REXIAN_FLOW_TOO_LARGE/,
    );
  },
);

t.test(
  'a reload that fails as a whole (the directory gone) throws nothing and keeps the flows in service',
  async (t) => {
    const dir = scratchDir('vanishing-flows');
    cpSync(join(repoRoot, 'ivr-flows'), dir, { recursive: true });
    const registry = new FlowRegistry(sourcesFor(dir), pino({ level: 'silent' }));
    registry.reload();
    const version = registry.forNumber('12345')?.version;
    rmSync(dir, { recursive: true });
    // The file watcher calls reload() from a timer: a throw there would end the process.
    t.doesNotThrow(() => registry.reload());
    t.equal(registry.forNumber('12345')?.version, version, 'the last good flows keep serving');
  },
);

t.test('a pattern that repeats a repetition is refused: one slow match would block every call', async (t) => {
  const issues = lintFlows(
    [
      parseFlow(
        'slow.yaml',
        `id: slow
start: c
nodes:
  c: { type: collect, prompt: welcome, var: id, maxLength: 18, pattern: "(\\\\d+)+X", next: b, noInput: { next: e }, invalid: { next: e } }
  b:
    type: branch
    conditions:
      - { when: { caller: { pattern: "^(1[0-9]*)*$" } }, next: e }
      - { when: { caller: { pattern: "^1[3-9]\\\\d{9}$" } }, next: e }
    otherwise: e
  e: { type: hangup }
`,
      ).loaded!,
    ],
    lintContext,
  );
  t.same(
    issues.map((i) => [i.code, i.line]),
    [
      ['REXIAN_FLOW_BAD_PATTERN', 4],
      ['REXIAN_FLOW_BAD_PATTERN', 8],
    ],
    'the two nested ones, not the mobile-number pattern',
  );
  t.match(issues[0]!.message, /exponential time/);
});

t.test(
  'a call in a flow that slipped past the linter and calls itself stops nesting at the subflow limit',
  async (t) => {
    const ref = refOf(
      'id: again\nstart: hello\nnodes:\n  hello: { type: play, prompt: welcome, next: again }\n  again: { type: subflow, flow: again, next: bye }\n  bye: { type: hangup }\n',
    );
    const result = await simulate({
      flow: ref,
      flows: () => ref,
      calendar: testCalendar,
      did: '12345',
      caller: '13800138000',
      at: new Date('2026-11-23T10:00:00+08:00'),
      dtmf: '',
      http: 'fail',
    });
    t.same(result.outcome, { type: 'hangup' }, 'the call ends instead of growing its saved stack for ever');
    t.equal(
      result.path.filter((n) => n.endsWith('hello')).length,
      FLOW_LIMITS.maxSubflowDepth + 1,
      'after the allowed nesting',
    );
  },
);
