import t from 'tap';

import { parseFlow } from '../../src/ivr/loader.js';

const ok = `id: t
start: a
nodes:
  a: { type: hangup }
`;

t.test('a valid flow loads with a version that is the hash of its text', async (t) => {
  const { loaded, issues } = parseFlow('f.yaml', ok);
  t.same(issues, []);
  t.match(loaded?.version, /^[0-9a-f]{12}$/);
  t.not(parseFlow('f.yaml', `${ok}# edited\n`).loaded?.version, loaded?.version, 'any edit is a new version');
});

t.test('YAML syntax errors carry line and column', async (t) => {
  const { issues } = parseFlow('broken.yaml', 'id: t\nstart: a\nnodes:\n  a: { type: hangup\n');
  t.equal(issues[0]?.code, 'REXIAN_FLOW_SYNTAX');
  t.equal(issues[0]?.file, 'broken.yaml');
  t.ok(issues[0]!.line >= 4, `line ${issues[0]?.line}`);
});

t.test('duplicate node ids are a syntax error, not a silent override', async (t) => {
  const { issues } = parseFlow('dup.yaml', 'id: t\nstart: a\nnodes:\n  a: { type: hangup }\n  a: { type: hangup }\n');
  t.equal(issues[0]?.code, 'REXIAN_FLOW_SYNTAX');
  t.equal(issues[0]?.line, 5);
});

t.test('an unknown key inside a node names the node and points at the key', async (t) => {
  const { issues } = parseFlow(
    'typo.yaml',
    `id: t
start: m
nodes:
  m:
    type: menu
    prompt: menu
    optoins: { "1": m }
    options: { "1": m }
    noInput: { next: m }
    invalid: { next: m }
`,
  );
  t.equal(issues.length, 1);
  t.match(issues[0]!.message, /node "m": unknown key "optoins"/);
  t.same([issues[0]!.line, issues[0]!.col], [7, 5]);
  t.equal(issues[0]!.node, 'm');
});

t.test('a missing required key and a wrong node type are named', async (t) => {
  const missing = parseFlow('f.yaml', 'id: t\nstart: a\nnodes:\n  a: { type: play, prompt: welcome }\n').issues;
  t.match(missing[0]!.message, /node "a": "next" is required/);
  t.same([missing[0]!.line, missing[0]!.col], [4, 3]);
  const badType = parseFlow('f.yaml', 'id: t\nstart: a\nnodes:\n  a: { type: ring }\n').issues;
  t.match(badType[0]!.message, /node "a": "type" must be one of play, menu/);
});

t.test('prompts are a name or { text }', async (t) => {
  const { issues } = parseFlow(
    'f.yaml',
    'id: t\nstart: a\nnodes:\n  a: { type: play, prompt: "hello world!", next: b }\n  b: { type: hangup }\n',
  );
  t.equal(issues.length, 1);
  t.match(issues[0]!.message, /must be a prompt name .* or \{ text: "…" \}/);
});

t.test('a menu key must be one DTMF key and a transfer number digits only', async (t) => {
  const { issues } = parseFlow(
    'f.yaml',
    `id: t
start: m
nodes:
  m: { type: menu, prompt: menu, options: { "12": x }, noInput: { next: x }, invalid: { next: x } }
  x: { type: transfer, kind: external, number: "0086-10-1234" }
`,
  );
  t.ok(
    issues.some((i) => i.node === 'm' && /options/.test(i.message)),
    'bad key reported',
  );
  t.ok(
    issues.some((i) => i.node === 'x' && /number/.test(i.message)),
    'bad number reported',
  );
});
