// Password hashes, the lockout's arithmetic, session renewal and the session cookie: pure logic.
import t from 'tap';

import { cookieValue, presentedToken, sessionCookie } from '../../src/people/cookie.js';
import { locksOut, retryAfterSeconds } from '../../src/people/lockout.js';
import { hashPassword, parseHash, passwordProblem, verifyNobody, verifyPassword } from '../../src/people/passwords.js';
import { renewalMs } from '../../src/people/sessions.js';

t.test('a password verifies against its hash, and a wrong one does not', async (t) => {
  const stored = await hashPassword('值班-Password-1');
  t.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/, 'self-describing scrypt string');
  t.ok(await verifyPassword('值班-Password-1', stored));
  t.notOk(await verifyPassword('值班-password-1', stored), 'case matters');
  t.notOk(await verifyPassword('', stored));
  t.not(await hashPassword('值班-Password-1'), stored, 'a fresh salt each time');
});

t.test('a password typed in another Unicode form still verifies (NFC)', async (t) => {
  const stored = await hashPassword('caf\u00e9-12345');
  t.ok(await verifyPassword('cafe\u0301-12345', stored));
});

t.test('a tampered hash string verifies as false, without hanging or throwing', async (t) => {
  const stored = await hashPassword('correct horse battery');
  const parts = stored.split('$');
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  t.notOk(
    await verifyPassword('correct horse battery', [...parts.slice(0, 5), flip(parts[5]!)].join('$')),
    'hash changed',
  );
  t.notOk(
    await verifyPassword('correct horse battery', [...parts.slice(0, 4), flip(parts[4]!), parts[5]].join('$')),
    'salt changed',
  );
  t.notOk(await verifyPassword('correct horse battery', stored.replace('$32768$', '$16384$')), 'cost lowered');
  t.equal(parseHash(stored.replace('$32768$', '$1073741824$')), undefined, 'a cost of 2^30 is refused before any work');
  t.equal(parseHash(stored.replace('$32768$', '$30000$')), undefined, 'N must be a power of two');
  t.equal(parseHash(stored.replace('$8$1$', '$800$1$')), undefined, 'r out of bounds');
  t.equal(parseHash(stored.replace(/^scrypt/, 'bcrypt')), undefined, 'another scheme');
  t.equal(parseHash('scrypt$32768$8$1$c2FsdA'), undefined, 'missing part');
  t.notOk(await verifyPassword('correct horse battery', ''), 'empty');
  t.notOk(await verifyPassword('correct horse battery', 'plain-text-password'), 'not a hash at all');
});

t.test('an unknown name costs as much as a wrong password', async (t) => {
  const stored = await hashPassword('some password 1');
  await verifyNobody('warm up');
  // The fastest of three runs: a busy shared machine only ever adds time.
  const time = async (f: () => Promise<unknown>) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const s = process.hrtime.bigint();
      await f();
      best = Math.min(best, Number(process.hrtime.bigint() - s) / 1e6);
    }
    return best;
  };
  const wrong = await time(() => verifyPassword('wrong password', stored));
  const nobody = await time(() => verifyNobody('wrong password'));
  t.equal(await verifyNobody('x'), false);
  t.ok(
    nobody > wrong / 3 && nobody < wrong * 3,
    `same order of work (wrong ${wrong.toFixed(0)} ms, unknown ${nobody.toFixed(0)} ms)`,
  );
});

t.test('new passwords need at least 8 characters, and the refusal says so', async (t) => {
  t.equal(passwordProblem('1234567'), 'a password needs at least 8 characters');
  t.equal(passwordProblem('十二三四五六七八'), undefined, '8 Chinese characters are 8 characters');
  t.equal(passwordProblem('12345678'), undefined);
  t.equal(passwordProblem(undefined), 'a password is required');
  t.match(passwordProblem('x'.repeat(1025)), /at most 1024/);
});

t.test('the fifth failure in the window locks out, for whole seconds never 0', async (t) => {
  const policy = { failures: 5, windowSeconds: 300, lockSeconds: 300 };
  t.same(
    [1, 2, 3, 4, 5, 6].map((n) => locksOut(n, policy)),
    [false, false, false, false, true, true],
  );
  t.equal(retryAfterSeconds(300_000), 300);
  t.equal(retryAfterSeconds(1_001), 2, 'rounded up: retrying at the advertised time must work');
  t.equal(retryAfterSeconds(1), 1);
  t.equal(retryAfterSeconds(0), 1);
});

t.test('a session used now lives the idle timeout, never past its absolute end', async (t) => {
  const hour = 3_600_000;
  t.equal(renewalMs(0, 16 * hour, 12 * hour), 12 * hour);
  t.equal(renewalMs(10 * hour, 16 * hour, 12 * hour), 6 * hour, 'cut at the absolute end');
  t.equal(renewalMs(17 * hour, 16 * hour, 12 * hour), 0, 'past the end: nothing');
});

t.test('the session token comes from the bearer header or the cookie', async (t) => {
  t.equal(presentedToken({ authorization: 'Bearer abc' }), 'abc');
  t.equal(presentedToken({ cookie: 'x=1; rexian_session=tok_-9; y=2' }), 'tok_-9');
  t.equal(presentedToken({ authorization: 'Bearer abc', cookie: 'rexian_session=tok' }), 'abc', 'the header wins');
  t.equal(presentedToken({ cookie: 'not_rexian_session=tok' }), '');
  t.equal(cookieValue(undefined, 'rexian_session'), undefined);
  t.match(sessionCookie('tok', 60, false), /^rexian_session=tok; Path=\/; Max-Age=60; HttpOnly; SameSite=Strict$/);
  t.match(sessionCookie('tok', 60, true), /; Secure$/);
});
