// Who may do what through the API: tokens with roles from config, agents acting only for
// themselves, supervisors for their own teams, ops for seats and flows; the event stream
// filtered the same way; and an OpenAPI document that lists every route.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';
import { WebSocket } from 'ws';

import { type AcdLab, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep } from '../helpers/lab.js';

const tokens = {
  agent: 'agent-t1-token-0123456789',
  supervisor: 'supervisor-a-token-0123456789',
  ops: 'ops-token-0123456789abcdef',
};
let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('auth', 10, [
    { id: 't1', skills: { general: 5 }, scenario: 'none', team: 'a' },
    { id: 't2', skills: { general: 5 }, scenario: 'none', team: 'b' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 王芳, role: agent, agent: t1, token: ${tokens.agent} }
    - { name: 班长A, role: supervisor, teams: [a], token: ${tokens.supervisor} }
    - { name: 运维, role: ops, tokenSha256: ${createHash('sha256').update(tokens.ops).digest('hex')} }
`,
  );
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function call(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

t.test('no token or a wrong one is refused', async (t) => {
  t.equal((await call(undefined, 'GET', '/api/agents')).status, 401);
  const wrong = await call('not-a-real-token-at-all', 'GET', '/api/agents');
  t.equal(wrong.status, 401);
  t.match(wrong.body, { error: { code: 'REXIAN_UNAUTHORIZED' } });
});

t.test('an agent acts only for themselves', async (t) => {
  t.equal((await call(tokens.agent, 'POST', '/api/agents/t1/login', {})).status, 200, 'own login');
  const other = await call(tokens.agent, 'POST', '/api/agents/t2/login', {});
  t.equal(other.status, 403, "not another agent's");
  t.match(other.body, { error: { code: 'REXIAN_FORBIDDEN', details: { agentId: 't2' } } });
  const list = await call(tokens.agent, 'GET', '/api/agents');
  t.same(
    (list.body.agents as Array<{ id: string }>).map((a) => a.id),
    ['t1'],
    'sees only themselves',
  );
  t.equal((await call(tokens.agent, 'GET', '/api/queues')).status, 403, 'no queue figures');
  t.equal((await call(tokens.agent, 'GET', '/api/flows')).status, 403, 'no flow status');
  t.equal(
    (await call(tokens.agent, 'PUT', '/api/agents/x9', { name: 'x', skills: { general: 1 } })).status,
    403,
    'cannot add seats',
  );
  t.equal((await call(tokens.agent, 'POST', '/api/agents/t1/logout')).status, 200);
});

t.test('a supervisor acts for their own team only', async (t) => {
  t.equal((await call(tokens.supervisor, 'POST', '/api/agents/t1/login', { ready: true })).status, 200, 'team a');
  t.equal((await call(tokens.supervisor, 'POST', '/api/agents/t2/login', {})).status, 403, 'not team b');
  t.equal((await call(tokens.supervisor, 'GET', '/api/agents/t2')).status, 403);
  const list = await call(tokens.supervisor, 'GET', '/api/agents');
  t.same(
    (list.body.agents as Array<{ id: string }>).map((a) => a.id),
    ['t1'],
  );
  t.equal((await call(tokens.supervisor, 'GET', '/api/queues')).status, 200, 'queue figures');
  t.equal((await call(tokens.supervisor, 'POST', '/api/agents/t1/logout')).status, 200);
});

t.test("ops manage seats and flows (token given as its SHA-256), not agents' states", async (t) => {
  const put = await call(tokens.ops, 'PUT', '/api/agents/x9', { name: '临时坐席', skills: { general: 1 } });
  t.equal(put.status, 200);
  t.equal((await call(tokens.ops, 'GET', '/api/flows')).status, 200);
  t.equal((await call(tokens.ops, 'POST', '/api/agents/t1/login', {})).status, 403);
  t.equal((await call(tokens.ops, 'DELETE', '/api/agents/x9')).status, 204);
});

function stream(token: string): Promise<{ ws: WebSocket; messages: Array<Record<string, unknown>> }> {
  const messages: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${acdLab.lab.ports.controller}/api/events?token=${token}`);
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('error', reject);
  });
}

t.test('the event stream shows each role only what it may see', async (t) => {
  const agent = await stream(tokens.agent);
  const supervisor = await stream(tokens.supervisor);
  t.teardown(() => {
    agent.ws.close();
    supervisor.ws.close();
  });
  await sleep(2500);
  t.match(agent.messages[0], { type: 'hello', as: { role: 'agent' } });
  t.notOk(
    agent.messages.some((m) => m.type === 'queue.figures'),
    'an agent gets no wallboard',
  );
  t.ok(
    supervisor.messages.some((m) => m.type === 'queue.figures'),
    'a supervisor does',
  );
  agent.ws.send('{"type":"snoop"}');
  await sleep(300);
  t.match(
    agent.messages.at(-1),
    { type: 'error', error: { code: 'REXIAN_BAD_REQUEST' } },
    'commands on the stream are refused',
  );
});

t.test('virtual-number bindings: ops only; the replies never show the hidden numbers', async (t) => {
  const body = { a: '02388880001', b: '13800000411', caseId: 'C-API-1', ttlHours: 1 };
  t.equal((await call(tokens.agent, 'POST', '/api/bindings', body)).status, 403, 'an agent may not bind');
  t.equal((await call(tokens.supervisor, 'POST', '/api/bindings', body)).status, 403, 'nor a supervisor');
  const made = await call(tokens.ops, 'POST', '/api/bindings', body);
  t.equal(made.status, 201);
  t.match(made.body, { a: '023****0001', b: '138****0411', caseId: 'C-API-1', record: false, maxCalls: 50 });
  t.match(String(made.body.x), /^023677210\d\d$/, 'an X from the shipped pool');
  t.notMatch(JSON.stringify(made.body), /13800000411/, "the citizen's number is not in the reply");
  const id = String(made.body.id);
  t.match((await call(tokens.ops, 'GET', `/api/bindings/${id}`)).body, { id, x: made.body.x });
  t.match((await call(tokens.ops, 'GET', '/api/bindings?caseId=C-API-1')).body, { bindings: [{ id }] });
  const extended = await call(tokens.ops, 'POST', `/api/bindings/${id}/extend`, { ttlHours: 2 });
  t.ok(Date.parse(String(extended.body.expiresAt)) > Date.parse(String(made.body.expiresAt)), 'extended');
  t.equal((await call(tokens.ops, 'DELETE', `/api/bindings/${id}`)).status, 204);
  t.equal((await call(tokens.ops, 'GET', `/api/bindings/${id}`)).status, 404, 'gone once unbound');
  const bad = await call(tokens.ops, 'POST', '/api/bindings', { a: '02388880001', b: '16801234' });
  t.equal(bad.status, 400);
  t.match(bad.body, { error: { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'b' } } });
});

t.test('/docs/json documents every route', async (t) => {
  const doc = (await call(undefined, 'GET', '/docs/json')).body as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  t.match(doc.openapi, /^3\./);
  const expected: Array<[string, string]> = [
    ['/api/agents', 'get'],
    ['/api/agents/{id}', 'get'],
    ['/api/agents/{id}/call', 'get'],
    ['/api/not-ready-reasons', 'get'],
    ['/api/agents/{id}', 'put'],
    ['/api/agents/{id}', 'delete'],
    ['/api/agents/{id}/history', 'get'],
    ['/api/agents/{id}/login', 'post'],
    ['/api/agents/{id}/logout', 'post'],
    ['/api/agents/{id}/ready', 'post'],
    ['/api/agents/{id}/not-ready', 'post'],
    ['/api/agents/{id}/end-wrap-up', 'post'],
    ['/api/agents/{id}/call/hold', 'post'],
    ['/api/agents/{id}/call/resume', 'post'],
    ['/api/agents/{id}/call/hangup', 'post'],
    ['/api/agents/{id}/call/emergency', 'post'],
    ['/api/agents/{id}/call/mute', 'post'],
    ['/api/agents/{id}/call/unmute', 'post'],
    ['/api/agents/{id}/call/recording/pause', 'post'],
    ['/api/agents/{id}/call/recording/resume', 'post'],
    ['/api/agents/{id}/call/transfer', 'post'],
    ['/api/agents/{id}/call/consult', 'post'],
    ['/api/agents/{id}/call/consult/complete', 'post'],
    ['/api/agents/{id}/call/consult/conference', 'post'],
    ['/api/agents/{id}/call/consult/cancel', 'post'],
    ['/api/windows', 'get'],
    ['/api/calls/{callId}/recordings', 'get'],
    ['/api/recordings/{name}', 'get'],
    ['/api/recordings', 'get'],
    ['/api/calls', 'get'],
    ['/api/reports/daily', 'get'],
    ['/api/reports/hourly', 'get'],
    ['/api/reports/range', 'get'],
    ['/api/reports/staffing', 'get'],
    ['/api/callbacks', 'post'],
    ['/api/callbacks', 'get'],
    ['/api/bindings', 'post'],
    ['/api/bindings', 'get'],
    ['/api/bindings/{id}', 'get'],
    ['/api/bindings/{id}', 'delete'],
    ['/api/bindings/{id}/extend', 'post'],
    ['/api/calls/{callId}/supervise', 'post'],
    ['/api/calls/{callId}/supervise', 'delete'],
    ['/api/calls/{callId}/supervise/mode', 'post'],
    ['/api/calls/{callId}/take-over', 'post'],
    ['/api/queues', 'get'],
    ['/api/queues/{id}', 'get'],
    ['/api/flows', 'get'],
    ['/api/flows/{id}/graph.svg', 'get'],
    ['/api/flows/{id}/simulate', 'post'],
    ['/api/flows/check', 'post'],
    ['/api/config/status', 'get'],
    ['/api/alerts', 'get'],
    ['/api/alerts/{id}/ack', 'post'],
    ['/api/alerts/figures', 'get'],
    ['/api/agents/{id}/day', 'get'],
    ['/api/agents/{id}/queues', 'get'],
    ['/healthz', 'get'],
    ['/readyz', 'get'],
    ['/api/session', 'post'],
    ['/api/session', 'get'],
    ['/api/session', 'delete'],
    ['/api/session/password', 'post'],
    ['/api/people', 'get'],
    ['/api/people/{name}', 'put'],
    ['/api/people/{name}/sessions', 'delete'],
    ['/api/session/phone', 'get'],
    ['/api/records/dead-letters', 'get'],
    ['/api/records/dead-letters/{id}/replay', 'post'],
  ];
  for (const [path, method] of expected) t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`);
  const apiPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/'));
  t.equal(
    apiPaths.length,
    new Set(expected.filter(([p]) => p.startsWith('/api/')).map(([p]) => p)).size,
    'and nothing undocumented besides',
  );
  t.equal((await fetch(`${controller.url}/docs`, { redirect: 'follow' })).status, 200, 'a browsable page');
});
