// What the API does with input a broken or hostile client sends, on the real controller:
// JSON numbers and arrays are not phone numbers, unknown fields are refused, a client's
// malformed requests get their own codes and no error line in the log, the token is checked
// before the body, another team's supervisor learns nothing about a call's supervision,
// premium-rate numbers never reach the trunk, and /readyz says what a healthy check is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';

const tokens = {
  supA: 'supervisor-a-input-token-0123456789',
  supB: 'supervisor-b-input-token-0123456789',
  ops: 'ops-input-token-0123456789abcdef',
};
let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('input', 41, [
    { id: 'n1', skills: { general: 5 }, scenario: 'agent-answers.xml', team: 'a' },
    // The supervisors' phone lets it ring: a supervision stays "started" while it rings.
    { id: 'boss', skills: { supervise: 1 }, scenario: 'agent-never-answers.xml', team: 'lead' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 一组班长, role: supervisor, teams: [a], agent: boss, token: ${tokens.supA} }
    - { name: 二组班长, role: supervisor, teams: [b], agent: boss, token: ${tokens.supB} }
    - { name: 运维, role: ops, token: ${tokens.ops} }
`,
  );
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

type ErrorReply = { error?: { code: string; message: string; details: Record<string, unknown> } };

/** A raw request: the body is sent exactly as given (a string), with the content type given. */
async function raw(
  token: string | undefined,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; body: ErrorReply & Record<string, unknown> }> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': contentType }),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as ErrorReply & Record<string, unknown>) : {} };
}

const json = (token: string | undefined, method: string, path: string, body?: unknown) =>
  raw(token, method, path, body === undefined ? undefined : JSON.stringify(body));

t.test('a JSON number or a one-element array is not a phone number: 400 naming the field', async (t) => {
  for (const number of [1.38e10, ['13800138000']]) {
    const res = await raw(tokens.ops, 'POST', '/api/callbacks', `{"number":${JSON.stringify(number)}}`);
    t.equal(res.status, 400, JSON.stringify(number));
    t.match(res.body.error, {
      code: 'REXIAN_BAD_REQUEST',
      message: 'body.number must be string',
      details: { field: 'body.number' },
    });
  }
  const exponent = await raw(tokens.ops, 'POST', '/api/callbacks', '{"number":1.38e10}');
  t.equal(exponent.body.error?.message, 'body.number must be string', 'the exponent form too');
  const binding = await json(tokens.ops, 'POST', '/api/bindings', { a: 2388880001, b: '13800000412' });
  t.match(binding.body.error, { code: 'REXIAN_BAD_REQUEST', message: 'body.a must be string' });
  const ttl = await json(tokens.ops, 'POST', '/api/bindings', { a: '02388880001', b: '13800000412', ttlHours: '72' });
  t.match(ttl.body.error, { message: 'body.ttlHours must be number' }, 'and a string is not a number either');
});

t.test('an unknown field in a body is refused, naming it', async (t) => {
  const forged = await json(tokens.ops, 'POST', '/api/callbacks', { number: '13800138000', createdBy: '别人' });
  t.equal(forged.status, 400);
  t.match(forged.body.error, {
    code: 'REXIAN_BAD_REQUEST',
    message: 'body has unknown field "createdBy"',
    details: { field: 'body.createdBy' },
  });
  const id = await json(tokens.ops, 'POST', '/api/bindings', {
    id: 'bd-000000000000',
    a: '02388880001',
    b: '13800000412',
  });
  t.match(id.body.error, { message: 'body has unknown field "id"' });
  const none = await json(tokens.supA, 'POST', '/api/agents/n1/logout', { force: true });
  t.match(
    none.body.error,
    { message: 'body has unknown field "force"' },
    'a route that takes no body refuses one with fields',
  );
  t.equal(
    (await json(tokens.ops, 'GET', '/api/callbacks?limit=5')).status,
    200,
    'query strings still become the numbers their schema says',
  );
  t.match((await json(tokens.ops, 'GET', '/api/callbacks?limt=5')).body.error, {
    message: 'querystring has unknown field "limt"',
  });
});

t.test("a client's malformed requests get their own codes and statuses, and no error line in the log", async (t) => {
  const from = controller.logs.length;
  const big = await raw(tokens.ops, 'POST', '/api/callbacks', JSON.stringify({ number: '1'.repeat(1_200_000) }));
  t.match(big, { status: 413, body: { error: { code: 'REXIAN_BODY_TOO_LARGE' } } }, 'a body over the limit');
  const text = await raw(
    tokens.ops,
    'POST',
    '/api/callbacks',
    'number=13800138000',
    'application/x-www-form-urlencoded',
  );
  t.match(
    text,
    { status: 415, body: { error: { code: 'REXIAN_UNSUPPORTED_MEDIA_TYPE' } } },
    'a content type we do not take',
  );
  const broken = await raw(tokens.ops, 'POST', '/api/callbacks', '{"number":');
  t.match(broken, { status: 400, body: { error: { code: 'REXIAN_BAD_JSON' } } }, 'JSON that does not parse');
  const empty = await raw(tokens.ops, 'POST', '/api/callbacks', '');
  t.match(empty, { status: 400, body: { error: { code: 'REXIAN_BAD_JSON' } } }, 'an empty JSON body');
  const nowhere = await raw(undefined, 'POST', '/api/nowhere', '{}');
  t.match(
    nowhere,
    { status: 404, body: { error: { code: 'REXIAN_NO_SUCH_ROUTE', message: 'no route POST /api/nowhere' } } },
    'a route that does not exist',
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // the log lines come through a pipe
  const lines = controller.logs.slice(from);
  t.same(
    lines.filter((l) => l.level >= 50).map((l) => l.msg),
    [],
    'nothing at error level',
  );
  t.notOk(
    lines.some((l) => JSON.stringify(l).includes('"stack"')),
    'no stack trace',
  );
  t.notOk(lines.some((l) => l.code === 'REXIAN_INTERNAL' || l.event === LogEvent.unhandledError));
});

t.test('without a valid token a request is refused before its body is read: 401, not 400', async (t) => {
  const bad = await raw(undefined, 'POST', '/api/callbacks', '{"number":5}');
  t.match(bad, { status: 401, body: { error: { code: 'REXIAN_UNAUTHORIZED' } } }, 'a body against the schema');
  t.equal(
    (await raw('not-a-token-at-all-0123', 'POST', '/api/agents/n1/call/transfer', '{"number":')).status,
    401,
    'malformed JSON',
  );
  t.equal((await raw(undefined, 'POST', '/api/bindings', 'x'.repeat(1_200_000))).status, 401, 'a body over the limit');
  t.equal(
    (await raw(undefined, 'POST', '/api/calls/c1/supervise', 'mode=monitor', 'text/plain')).status,
    401,
    'a content type we do not take',
  );
  const agentRole = await raw(tokens.supA, 'PUT', '/api/agents/x1', '{"name":');
  t.match(
    agentRole,
    { status: 403, body: { error: { code: 'REXIAN_FORBIDDEN' } } },
    'and the role before the body too',
  );
});

t.test('/readyz describes each healthy check as it is', async (t) => {
  const ready = await controller.readyz();
  t.equal(ready.status, 200);
  const checks = ready.body.checks as Record<string, { ok: boolean; detail: string }>;
  t.match(checks.ami, { ok: true, detail: `logged in to 127.0.0.1:${acdLab.lab.ports.ami}` });
  t.match(checks.ari, { ok: true, detail: /^connected to http/ });
  t.notMatch(JSON.stringify(checks), /not connected/, 'no healthy check says "not connected"');
});

t.test(
  "another team's supervisor gets 403 on a call whether or not it is supervised; premium numbers are refused on the call",
  async (t) => {
    t.equal((await controller.api('POST', '/api/agents/n1/login', { ready: true })).status, 200);
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000413' });
    const { callId } = (await c.log(LogEvent.callConnectedToAgent, 30_000)) as { callId: string };

    const unsupervised = await json(tokens.supB, 'DELETE', `/api/calls/${callId}/supervise`);
    t.equal(unsupervised.status, 403, 'not supervised: 403, not 404 "not being supervised"');
    t.equal(unsupervised.body.error?.code, 'REXIAN_FORBIDDEN');
    t.equal((await json(tokens.supB, 'POST', `/api/calls/${callId}/supervise/mode`, { mode: 'barge' })).status, 403);
    t.equal((await json(tokens.supB, 'POST', `/api/calls/${callId}/take-over`)).status, 403);

    t.equal(
      (await json(tokens.supA, 'POST', `/api/calls/${callId}/supervise`, { mode: 'monitor' })).status,
      200,
      "the call's own supervisor starts",
    );
    const supervised = await json(tokens.supB, 'DELETE', `/api/calls/${callId}/supervise`);
    t.equal(supervised.status, 403, 'supervised: the same 403');
    t.same(supervised.body, unsupervised.body, 'the same answer word for word: it tells nothing about the supervision');
    const gone = await json(tokens.supB, 'DELETE', '/api/calls/no-such-call-0/supervise');
    t.equal(gone.status, 403, "a call that does not exist answers another team's supervisor the same way");
    t.equal((await json(undefined, 'DELETE', `/api/calls/${callId}/supervise`)).status, 401);
    t.equal(
      (await json(tokens.supA, 'DELETE', `/api/calls/${callId}/supervise`)).status,
      200,
      'its own supervisor stops',
    );

    for (const path of ['/api/agents/n1/call/transfer', '/api/agents/n1/call/consult']) {
      const premium = await json(tokens.supA, 'POST', path, { number: '16812345678' });
      t.equal(premium.status, 400, `${path}: 16812345678 refused`);
      t.match(premium.body.error, {
        code: 'REXIAN_BAD_DIAL_STRING',
        message: /number "16812345678" is a premium-rate information-service number/,
        details: { field: 'number', reason: 'information-service' },
      });
    }
    const callback = await json(tokens.supA, 'POST', '/api/callbacks', { number: '16812345678' });
    t.match(
      callback,
      { status: 400, body: { error: { code: 'REXIAN_BAD_DIAL_STRING', details: { reason: 'information-service' } } } },
      'the dialer takes no such task',
    );
    const binding = await json(tokens.ops, 'POST', '/api/bindings', { a: '02388880001', b: '16912345678' });
    t.match(binding.body.error, { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'b' } }, 'nor does a binding');

    t.equal((await json(tokens.supA, 'POST', '/api/agents/n1/call/hangup')).status, 200);
    await c.sipp.done;
  },
);
