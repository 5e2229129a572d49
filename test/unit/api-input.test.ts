// The API's edge, without Asterisk: what a client sends is taken as sent (no coercion, no
// silent removal), refusals name the field, a client's mistakes get their own codes and are
// no incident in the log, and the token is checked before the body is even read.
import { Writable } from 'node:stream';

import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import t from 'tap';

import { Authenticator, requireRole } from '../../src/api/auth.js';
import { registerErrorHandler } from '../../src/api/errors.js';
import { registerValidation } from '../../src/api/validation.js';

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
}

function app(): { app: FastifyInstance; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Line);
      done();
    },
  });
  const a = Fastify({ loggerInstance: pino({ level: 'debug' }, sink), bodyLimit: 1024 }) as unknown as FastifyInstance;
  registerErrorHandler(a);
  registerValidation(a);
  const authn = new Authenticator({ adminToken: 'admin-token-0123456789' });
  a.post(
    '/api/callbacks',
    {
      onRequest: requireRole(authn, 'ops'),
      schema: {
        body: {
          type: 'object',
          required: ['number'],
          additionalProperties: false,
          properties: {
            number: { type: 'string', maxLength: 32 },
            target: { type: 'object', additionalProperties: false, properties: { number: { type: 'string' } } },
          },
        },
      },
    },
    async (req) => ({ got: req.body }),
  );
  a.get(
    '/api/reports',
    {
      onRequest: requireRole(authn, 'ops'),
      schema: {
        querystring: {
          type: 'object',
          required: ['date'],
          additionalProperties: false,
          properties: {
            date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            limit: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
    async (req) => ({ got: req.query }),
  );
  a.get('/boom', async () => {
    throw new Error('a fault of ours');
  });
  return { app: a, lines };
}

const admin = { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json' };

async function send(
  a: FastifyInstance,
  payload: string,
  headers: Record<string, string> = admin,
): Promise<{ status: number; error: { code: string; message: string; details: Record<string, unknown> } }> {
  const res = await a.inject({ method: 'POST', url: '/api/callbacks', payload, headers });
  return {
    status: res.statusCode,
    error: (res.json() as { error: { code: string; message: string; details: Record<string, unknown> } }).error,
  };
}

t.test('a JSON number or a one-element array is not a phone number: 400 naming the field', async (t) => {
  const { app: a } = app();
  for (const body of ['{"number":1.38e10}', '{"number":13800138000}', '{"number":["13800138000"]}']) {
    const r = await send(a, body);
    t.equal(r.status, 400, body);
    t.match(
      r.error,
      { code: 'REXIAN_BAD_REQUEST', message: 'body.number must be string', details: { field: 'body.number' } },
      body,
    );
  }
  const nested = await send(a, '{"number":"13800138000","target":{"number":5}}');
  t.match(
    nested.error,
    { message: 'body.target.number must be string', details: { field: 'body.target.number' } },
    'nested fields are named by their path',
  );
});

t.test('an unknown field is refused, not dropped', async (t) => {
  const { app: a } = app();
  const r = await send(a, '{"number":"13800138000","createdBy":"someone-else"}');
  t.equal(r.status, 400);
  t.match(r.error, {
    code: 'REXIAN_BAD_REQUEST',
    message: 'body has unknown field "createdBy"',
    details: { field: 'body.createdBy' },
  });
  t.match((await send(a, '{}')).error, { message: 'body.number is required', details: { field: 'body.number' } });
});

t.test('query strings still arrive as text and become the numbers their schema declares', async (t) => {
  const { app: a } = app();
  const ok = await a.inject({ method: 'GET', url: '/api/reports?date=2026-11-23&limit=5', headers: admin });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { got: { date: '2026-11-23', limit: 5 } });
  const unknown = await a.inject({ method: 'GET', url: '/api/reports?date=2026-11-23&by=x', headers: admin });
  t.match(unknown.json(), { error: { code: 'REXIAN_BAD_REQUEST', message: 'querystring has unknown field "by"' } });
  const bad = await a.inject({ method: 'GET', url: '/api/reports?date=2026-11-23&limit=many', headers: admin });
  t.match(bad.json(), { error: { message: 'querystring.limit must be integer' } });
});

t.test("a client's mistakes get their own codes and statuses, and no error line in the log", async (t) => {
  const { app: a, lines } = app();
  t.match(await send(a, '{"number":'), { status: 400, error: { code: 'REXIAN_BAD_JSON' } }, 'malformed JSON');
  t.match(await send(a, ''), { status: 400, error: { code: 'REXIAN_BAD_JSON' } }, 'an empty JSON body');
  t.match(
    await send(a, `{"number":"${'1'.repeat(2000)}"}`),
    { status: 413, error: { code: 'REXIAN_BODY_TOO_LARGE' } },
    'too large',
  );
  t.match(
    await send(a, 'number=1', { ...admin, 'content-type': 'application/x-www-form-urlencoded' }),
    { status: 415, error: { code: 'REXIAN_UNSUPPORTED_MEDIA_TYPE' } },
    'a form body',
  );
  const missing = await a.inject({ method: 'GET', url: '/no/such/route' });
  t.equal(missing.statusCode, 404);
  t.match(
    missing.json(),
    { error: { code: 'REXIAN_NO_SUCH_ROUTE', message: 'no route GET /no/such/route' } },
    'an unknown route, in our error shape',
  );
  t.same(
    lines.filter((l) => l.level >= 40).map((l) => l.msg),
    [],
    'nothing at warn or above',
  );
  t.notOk(
    lines.some((l) => l.err?.stack),
    'and no stack traces',
  );
  const boom = await a.inject({ method: 'GET', url: '/boom' });
  t.match(boom.json(), { error: { code: 'REXIAN_INTERNAL' } }, 'a fault of ours is still internal');
  t.ok(
    lines.some((l) => l.level === 50 && l.err?.stack),
    'and logged at error with its stack',
  );
});

t.test('the token is checked before the body: no token and a bad body is 401, not 400', async (t) => {
  const { app: a } = app();
  for (const payload of ['{"number":5}', '{"number":', 'x'.repeat(5000)]) {
    const r = await send(a, payload, { 'content-type': 'application/json' });
    t.equal(r.status, 401, payload.slice(0, 20));
    t.equal(r.error.code, 'REXIAN_UNAUTHORIZED');
  }
});
