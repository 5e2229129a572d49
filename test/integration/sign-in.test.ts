// People sign in as themselves: passwords checked against scrypt hashes in PostgreSQL,
// sessions in Redis that expire when idle and can be ended (sign-out, an admin revoking,
// disabling the account), failed attempts locked out per name and address, all audited;
// and a session is authorized on the existing routes exactly as a static token would be.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

import t from 'tap';
import { WebSocket } from 'ws';

import { repoRoot } from '../../src/asterisk/instance.js';
import { type AcdLab, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep } from '../helpers/lab.js';

const IDLE_SECONDS = 4;
const opsToken = 'ops-token-for-sign-in-0123456789';
let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('sign-in', 51, [
    { id: 't1', skills: { general: 5 }, scenario: 'none', team: 'a' },
    { id: 't2', skills: { general: 5 }, scenario: 'none', team: 'b' },
    { id: 't3', skills: { general: 5 }, scenario: 'none', team: 'b' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 运维, role: ops, token: ${opsToken} }
  sessions:
    idleSeconds: ${IDLE_SECONDS}
    maxSeconds: 3600
    lockout: { failures: 3, windowSeconds: 60, lockSeconds: 120 }
`,
  );
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  for (const [name, body] of Object.entries({
    t1: { role: 'agent', password: 'agent-t1-密码-ok', displayName: '王芳' },
    't3-person': { role: 'agent', agent: 't3', password: 'agent-t3-password' },
    班长A: { role: 'supervisor', teams: ['a'], password: 'supervisor-a-pass' },
    lockme: { role: 'agent', agent: 't2', password: 'the-right-password' },
  })) {
    const res = await controller.api('PUT', `/api/people/${encodeURIComponent(name)}`, body);
    if (res.status !== 201) throw new Error(`PUT /api/people/${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A call as a browser would make it: the session in a cookie (or a bearer token, or nothing). */
async function call(
  method: string,
  path: string,
  options: { cookie?: string; bearer?: string; body?: unknown } = {},
): Promise<Answer> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: {
      ...(options.cookie ? { cookie: `rexian_session=${options.cookie}` } : {}),
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function signIn(name: string, password: string): Promise<Answer> {
  return call('POST', '/api/session', { body: { name, password } });
}

async function tokenOf(name: string, password: string): Promise<string> {
  const res = await signIn(name, password);
  if (res.status !== 200) throw new Error(`sign-in of ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

/** A sign-in from another loopback address (127.0.0.2): another client, as far as the lockout is concerned. */
function signInFrom(localAddress: string, name: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: acdLab.lab.ports.controller,
        path: '/api/session',
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ name, password }));
  });
}

async function audit(): Promise<Array<Record<string, string>>> {
  const entries = await acdLab.lab.redis.xrange(`${acdLab.lab.prefix}:audit:sign-in`, '-', '+');
  return entries.map(
    ([, fields]) =>
      Object.fromEntries(
        Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
      ) as Record<string, string>,
  );
}

t.test('the right password signs in: a token in the body and an HttpOnly, SameSite=Strict cookie', async (t) => {
  const res = await signIn('t1', 'agent-t1-密码-ok');
  t.equal(res.status, 200);
  const token = res.body.token as string;
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.match(res.body, { principal: { name: 't1', role: 'agent', agentId: 't1' }, displayName: '王芳' });
  const cookie = res.headers.get('set-cookie') ?? '';
  t.match(cookie, new RegExp(`^rexian_session=${token}; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Strict`));
  const who = await call('GET', '/api/session', { cookie: token });
  t.equal(who.status, 200);
  t.match(who.body, { kind: 'session', principal: { name: 't1', role: 'agent', agentId: 't1' } });
  t.notOk(
    JSON.stringify(await acdLab.lab.redis.keys(`${acdLab.lab.prefix}:session:*`)).includes(token),
    'Redis keeps only the hash',
  );
  const signedIn = (await audit()).find((e) => e.event === 'sign-in' && e.name === 't1');
  t.match(signedIn, { role: 'agent', agentId: 't1', address: '127.0.0.1' }, 'audited with who and from where');
  t.match(signedIn?.at, /^\d{4}-\d\d-\d\dT/, 'and when');
});

t.test('an agent signs in with their agent id when the account has another name', async (t) => {
  const res = await signIn('t3', 'agent-t3-password');
  t.equal(res.status, 200);
  t.match(res.body, { principal: { name: 't3-person', role: 'agent', agentId: 't3' } });
});

t.test('a wrong password and an unknown name get the same answer', async (t) => {
  const wrong = await signIn('t1', 'not-the-password');
  const unknown = await signIn('nobody-here', 'not-the-password');
  t.equal(wrong.status, 401);
  t.same(unknown.body, wrong.body, 'same body');
  t.equal(unknown.status, wrong.status, 'same status');
  t.match(wrong.body, { error: { code: 'REXIAN_SIGN_IN_FAILED' } });
  // Same work too (a dummy scrypt for the unknown name): the fastest of three of each.
  const time = async (name: string): Promise<number> => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await signIn(name, 'not-the-password');
      best = Math.min(best, performance.now() - start);
      await acdLab.lab.redis.del(`${acdLab.lab.prefix}:sign-in-failures:127.0.0.1:${name}`); // no lockout here
    }
    return best;
  };
  const [known, nobody] = [await time('t1'), await time('nobody-here')];
  t.ok(
    nobody > known / 3,
    `an unknown name is not answered faster (${nobody.toFixed(0)} ms against ${known.toFixed(0)} ms)`,
  );
});

t.test('repeated failures lock the name and address out with 429 and Retry-After, audited', async (t) => {
  t.equal((await signIn('lockme', 'guess-1')).status, 401);
  t.equal((await signIn('lockme', 'guess-2')).status, 401);
  const third = await signIn('lockme', 'guess-3');
  t.equal(third.status, 429, 'the third failure locks out');
  t.match(third.body, { error: { code: 'REXIAN_SIGN_IN_LOCKED', details: { retryAfterSeconds: 120 } } });
  t.equal(third.headers.get('retry-after'), '120');
  const right = await signIn('lockme', 'the-right-password');
  t.equal(right.status, 429, 'even the right password is refused while locked out');
  t.ok(Number(right.headers.get('retry-after')) > 100 && Number(right.headers.get('retry-after')) <= 120);
  t.equal(
    await signInFrom('127.0.0.2', 'lockme', 'the-right-password'),
    200,
    'the same name from another address is not locked out',
  );
  const entries = (await audit()).filter((e) => e.name === 'lockme' && e.event !== 'account-put');
  t.same(
    entries.map((e) => e.event),
    ['failure', 'failure', 'failure', 'lockout', 'locked-attempt', 'sign-in'],
  );
  t.match(entries[0], { reason: 'wrong-password', address: '127.0.0.1' });
  t.match(entries.at(-1), { address: '127.0.0.2' });
});

t.test("an agent's session acts for its own agent and is refused for another, as a token would be", async (t) => {
  const token = await tokenOf('t1', 'agent-t1-密码-ok');
  t.equal((await call('POST', '/api/agents/t1/login', { cookie: token, body: {} })).status, 200, 'own login (cookie)');
  t.equal((await call('POST', '/api/agents/t1/ready', { bearer: token, body: {} })).status, 200, 'own ready (bearer)');
  const other = await call('POST', '/api/agents/t2/ready', { cookie: token, body: {} });
  t.equal(other.status, 403, "not another agent's");
  t.match(other.body, { error: { code: 'REXIAN_FORBIDDEN', details: { agentId: 't2' } } });
  t.same(
    ((await call('GET', '/api/agents', { cookie: token })).body.agents as Array<{ id: string }>).map((a) => a.id),
    ['t1'],
    'sees only themselves',
  );
  t.equal((await call('GET', '/api/queues', { cookie: token })).status, 403, 'no wallboard');
  t.equal(
    (await call('PUT', '/api/people/t2', { cookie: token, body: { role: 'agent', password: 'whatever-123' } })).status,
    403,
    'no accounts',
  );
  t.equal((await call('POST', '/api/agents/t1/logout', { cookie: token })).status, 200);

  const sup = await tokenOf('班长A', 'supervisor-a-pass');
  t.equal(
    (await call('POST', '/api/agents/t1/login', { cookie: sup, body: {} })).status,
    200,
    'a supervisor for their team',
  );
  t.equal((await call('POST', '/api/agents/t2/login', { cookie: sup, body: {} })).status, 403, 'not another team');
  t.equal((await call('GET', '/api/queues', { cookie: sup })).status, 200);
  t.equal((await call('POST', '/api/agents/t1/logout', { cookie: sup })).status, 200);
  t.equal((await call('GET', '/api/agents', { bearer: opsToken })).status, 200, 'static tokens still work');
});

t.test('signing out ends the session and clears the cookie', async (t) => {
  const token = await tokenOf('t1', 'agent-t1-密码-ok');
  const out = await call('DELETE', '/api/session', { cookie: token });
  t.equal(out.status, 204);
  t.match(out.headers.get('set-cookie'), /^rexian_session=; Path=\/; Max-Age=0/);
  const after = await call('GET', '/api/agents', { cookie: token });
  t.equal(after.status, 401);
  t.match(after.body, { error: { code: 'REXIAN_UNAUTHORIZED' } });
  t.ok(
    (await audit()).some((e) => e.event === 'sign-out' && e.name === 't1'),
    'audited',
  );
});

t.test('an idle session expires and is refused with the expired code; use renews it', async (t) => {
  const idle = await tokenOf('t1', 'agent-t1-密码-ok');
  const used = await tokenOf('t1', 'agent-t1-密码-ok');
  for (let i = 0; i < 3; i++) {
    await sleep(IDLE_SECONDS * 400);
    t.equal(
      (await call('GET', '/api/agents/t1', { cookie: used })).status,
      200,
      `in use after ${((i + 1) * IDLE_SECONDS * 0.4).toFixed(1)} s`,
    );
  }
  const late = await call('GET', '/api/agents/t1', { cookie: idle });
  t.equal(late.status, 401, `unused for ${(IDLE_SECONDS * 1.2).toFixed(1)} s`);
  t.match(late.body, { error: { code: 'REXIAN_SESSION_EXPIRED' } });
  t.match((await call('GET', '/api/session', { cookie: idle })).body, { error: { code: 'REXIAN_SESSION_EXPIRED' } });
});

t.test('an admin ends all sessions of a person at once; an agent cannot', async (t) => {
  const first = await tokenOf('t1', 'agent-t1-密码-ok');
  const second = await tokenOf('t1', 'agent-t1-密码-ok');
  t.equal((await call('DELETE', '/api/people/t1/sessions', { cookie: first })).status, 403, 'not by the agent');
  const revoked = await controller.api('DELETE', '/api/people/t1/sessions');
  t.equal(revoked.status, 200);
  t.ok((revoked.body.ended as number) >= 2, 'both ended');
  t.equal((await call('GET', '/api/agents/t1', { cookie: first })).status, 401);
  t.equal((await call('GET', '/api/agents/t1', { bearer: second })).status, 401);
  t.match(
    (await audit()).find((e) => e.event === 'revoke'),
    { name: 't1', by: 'admin' },
  );
});

t.test('disabling an account ends its sessions and refuses sign-in with the usual answer', async (t) => {
  const token = await tokenOf('t3', 'agent-t3-password');
  t.equal(
    (await call('PUT', '/api/people/t3-person', { bearer: opsToken, body: { disabled: true } })).status,
    200,
    'ops may disable an agent',
  );
  t.equal((await call('GET', '/api/agents/t3', { cookie: token })).status, 401, 'the session is gone');
  const refused = await signIn('t3', 'agent-t3-password');
  t.equal(refused.status, 401);
  t.match(refused.body, { error: { code: 'REXIAN_SIGN_IN_FAILED' } });
  t.equal((await call('PUT', '/api/people/t3-person', { bearer: opsToken, body: { disabled: false } })).status, 200);
  t.equal((await signIn('t3', 'agent-t3-password')).status, 200, 'enabled again');
});

t.test('a person changes their own password: the old one must be right, the new one 8 characters', async (t) => {
  const token = await tokenOf('班长A', 'supervisor-a-pass');
  const other = await tokenOf('班长A', 'supervisor-a-pass');
  const short = await call('POST', '/api/session/password', {
    cookie: token,
    body: { oldPassword: 'supervisor-a-pass', newPassword: 'short' },
  });
  t.equal(short.status, 400);
  t.match(short.body, { error: { code: 'REXIAN_PASSWORD_TOO_SHORT', message: /at least 8 characters/ } });
  const wrong = await call('POST', '/api/session/password', {
    cookie: token,
    body: { oldPassword: 'not-it-at-all', newPassword: 'a-new-password' },
  });
  t.equal(wrong.status, 403);
  t.match(wrong.body, { error: { code: 'REXIAN_PASSWORD_WRONG' } });
  t.equal(
    (
      await call('POST', '/api/session/password', {
        cookie: token,
        body: { oldPassword: 'supervisor-a-pass', newPassword: 'a-new-password' },
      })
    ).status,
    204,
  );
  t.equal((await call('GET', '/api/session', { cookie: token })).status, 200, 'this session goes on');
  t.equal((await call('GET', '/api/session', { cookie: other })).status, 401, "the person's other sessions end");
  t.equal((await signIn('班长A', 'supervisor-a-pass')).status, 401, 'the old password no longer works');
  t.equal((await signIn('班长A', 'a-new-password')).status, 200);
  t.equal(
    (
      await call('POST', '/api/session/password', {
        bearer: opsToken,
        body: { oldPassword: 'x', newPassword: 'yyyyyyyy' },
      })
    ).status,
    401,
    'a static token has no password',
  );
});

t.test("ops manage agents' accounts only; an agent account needs an agent on the roster", async (t) => {
  const admin = await call('PUT', '/api/people/boss', {
    bearer: opsToken,
    body: { role: 'admin', password: 'a-long-password' },
  });
  t.equal(admin.status, 403);
  t.equal(
    (
      await call('PUT', '/api/people/%E7%8F%AD%E9%95%BFA', {
        bearer: opsToken,
        body: { role: 'agent', password: 'a-long-password' },
      })
    ).status,
    403,
    'nor turn a supervisor into an agent',
  );
  const unknown = await call('PUT', '/api/people/x9', {
    bearer: opsToken,
    body: { role: 'agent', password: 'a-long-password' },
  });
  t.equal(unknown.status, 404);
  t.match(unknown.body, { error: { code: 'REXIAN_UNKNOWN_AGENT', details: { agentId: 'x9' } } });
  const noPassword = await call('PUT', '/api/people/t2', { bearer: opsToken, body: { role: 'agent' } });
  t.equal(noPassword.status, 400, 'a new account needs a password');
  const listed = await call('GET', '/api/people', { bearer: opsToken });
  t.equal(listed.status, 200);
  t.notOk(JSON.stringify(listed.body).includes('scrypt$'), 'no hash leaves the controller');
  t.ok((listed.body.people as Array<{ name: string }>).some((p) => p.name === '班长A'));
});

t.test("the event stream takes a session: by ?token=, or by the cookie from the controller's own page", async (t) => {
  const token = await tokenOf('t1', 'agent-t1-密码-ok');
  const open = (url: string, headers: Record<string, string> = {}) =>
    new Promise<{ ws?: WebSocket; first?: Record<string, unknown>; status?: number }>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.once('message', (d) => resolve({ ws, first: JSON.parse(String(d)) as Record<string, unknown> }));
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      ws.once('error', () => resolve({}));
    });
  const base = `ws://127.0.0.1:${acdLab.lab.ports.controller}/api/events`;
  const byQuery = await open(`${base}?token=${token}`);
  t.match(byQuery.first, { type: 'hello', as: { name: 't1', role: 'agent' } });
  byQuery.ws?.close();
  const page = await open(base, { cookie: `rexian_session=${token}`, origin: controller.url });
  t.match(page.first, { type: 'hello', as: { name: 't1' } }, 'same-origin page with the cookie');
  page.ws?.close();
  t.equal(
    (await open(base, { cookie: `rexian_session=${token}`, origin: 'https://evil.example' })).status,
    403,
    "another site's page is refused",
  );
  t.equal((await open(`${base}?token=not-a-session`)).status, 401);
});

t.test('the CLI creates an account and prints a generated password that signs in', async (t) => {
  const child = spawn(
    process.execPath,
    ['bin/rexian.js', 'person', 'add', 'ops-night', '--role', 'ops', '--display-name', '夜班运维'],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...acdLab.lab.env },
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += String(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    out += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, out);
  t.match(out, /^created ops-night \(ops\)$/m);
  const password = /^password: (\S+)$/m.exec(out)?.[1] ?? '';
  t.ok(password.length >= 16, 'a generated password');
  const res = await signIn('ops-night', password);
  t.equal(res.status, 200);
  t.match(res.body, { principal: { name: 'ops-night', role: 'ops' }, displayName: '夜班运维' });
  t.match(
    (await audit()).find((e) => e.event === 'account-put' && e.name === 'ops-night'),
    { by: 'cli', address: 'cli' },
  );
});
