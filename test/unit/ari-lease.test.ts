// The ARI lease of a controller pair, against real Redis (the Lua is the logic): one holder at
// a time, the standby takes over when the holder stops renewing, and a holder cut off from
// Redis gives up before its lease runs out, so two controllers never drive one Asterisk.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import t from 'tap';

import { AriLease, ariLeaseKey, leaseTimings } from '../../src/ha/ari-lease.js';
import { sleep, until } from '../helpers/lab.js';

const admin = new Redis('redis://127.0.0.1:6379');
t.teardown(() => admin.disconnect());
const logger = pino({ level: 'silent' });
const timings = { ttlMs: 600, renewEveryMs: 150, retryEveryMs: 50 };

interface Candidate {
  lease: AriLease;
  redis: Redis;
  acquiredAt?: number;
  lostAt?: number;
  lostReason?: string;
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const key = ariLeaseKey(`rexian-test:lease:${randomBytes(4).toString('hex')}`, '127.0.0.1_8088', 'rexian');
  t.teardown(() => admin.del(key));
  const candidate = (holder: string, onAcquired?: () => Promise<void>): Candidate => {
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    const c: Candidate = {
      redis,
      lease: new AriLease({
        ...timings,
        redis,
        key,
        holder,
        logger,
        onAcquired: async () => {
          c.acquiredAt = Date.now();
          await onAcquired?.();
        },
        onLost: (reason) => {
          c.lostAt = Date.now();
          c.lostReason = reason;
        },
      }),
    };
    t.teardown(async () => {
      await c.lease.stop();
      redis.disconnect();
    });
    return c;
  };
  return { key, candidate };
}

async function connected(c: Candidate): Promise<Candidate> {
  await until('lease connection ready', () => c.redis.status === 'ready', 2_000);
  return c;
}

t.test('the first controller takes the lease; the second stands by and names the holder', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  const b = await connected(candidate('ctl-b'));
  await a.lease.start();
  await b.lease.start();
  t.equal(a.lease.role, 'active');
  t.ok(a.acquiredAt, 'the holder was told to start driving Asterisk');
  t.equal(b.lease.role, 'standby');
  t.equal(b.acquiredAt, undefined, 'the standby was not');
  t.equal(b.lease.holder, 'ctl-a', 'the standby knows who holds ARI');
  t.equal(await admin.get(key), 'ctl-a');
  const pttl = await admin.pttl(key);
  t.ok(pttl > 0 && pttl <= timings.ttlMs, `the key expires by itself (pttl ${pttl} ms)`);
});

t.test('the holder keeps the lease well past its ttl by renewing it', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  const b = await connected(candidate('ctl-b'));
  await a.lease.start();
  await b.lease.start();
  await sleep(timings.ttlMs * 4);
  t.equal(a.lease.role, 'active');
  t.equal(a.lostAt, undefined, 'never lost');
  t.equal(b.lease.role, 'standby', 'the standby never got it');
  t.equal(await admin.get(key), 'ctl-a');
});

t.test('a holder cut off from Redis stops before its lease runs out; then the standby takes over', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  const b = await connected(candidate('ctl-b'));
  await a.lease.start();
  await b.lease.start();
  const cutAt = Date.now();
  a.redis.disconnect(); // as good as a partition: its renewals fail
  await until('standby takes over', () => b.lease.role === 'active', 3_000);
  t.equal(a.lease.role, 'fenced');
  t.match(a.lostReason, /could not be renewed/);
  t.ok(a.lostAt! < b.acquiredAt!, `the old holder stopped ${b.acquiredAt! - a.lostAt!} ms before the new one began`);
  t.ok(a.lostAt! - cutAt < timings.ttlMs, `the old holder stopped ${a.lostAt! - cutAt} ms after it was cut off`);
  const takeover = b.acquiredAt! - cutAt;
  t.ok(takeover <= timings.ttlMs + timings.retryEveryMs + 200, `taken over ${takeover} ms after the cut`);
  t.equal(await admin.get(key), 'ctl-b');
});

t.test('a holder that is killed (no renewals, no release) is replaced within ttl + retry', async (t) => {
  const { key, candidate } = setup(t);
  const b = await connected(candidate('ctl-b'));
  await admin.set(key, 'ctl-dead', 'PX', timings.ttlMs); // what a kill -9 leaves behind
  const startedAt = Date.now();
  await b.lease.start();
  t.equal(b.lease.role, 'standby');
  t.equal(b.lease.holder, 'ctl-dead');
  await until('standby takes over', () => b.lease.role === 'active', 3_000);
  const waited = b.acquiredAt! - startedAt;
  t.ok(waited >= timings.ttlMs - 50, `not before the dead holder's lease ran out (${waited} ms)`);
  t.ok(waited <= timings.ttlMs + timings.retryEveryMs + 200, `and soon after it (${waited} ms)`);
});

t.test('a clean stop releases the lease: the standby takes over within one retry', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  const b = await connected(candidate('ctl-b'));
  await a.lease.start();
  await b.lease.start();
  const stoppedAt = Date.now();
  await a.lease.stop();
  t.equal(a.lease.role, 'stopped');
  await until('standby takes over', () => b.lease.role === 'active', 2_000);
  t.ok(b.acquiredAt! - stoppedAt < timings.ttlMs / 2, `taken over ${b.acquiredAt! - stoppedAt} ms after the stop`);
  t.equal(a.lostAt, undefined, 'a clean stop is not a loss');
  t.equal(await admin.get(key), 'ctl-b');
});

t.test('a holder that finds another name in the key stops at once', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  await a.lease.start();
  await admin.set(key, 'ctl-intruder', 'PX', 10_000);
  await until('holder fenced', () => a.lease.role === 'fenced', 1_000);
  t.match(a.lostReason, /another controller holds/);
  t.equal(await admin.get(key), 'ctl-intruder', 'it does not touch the other holder');
});

t.test('a stopped standby never takes the lease, and does not release the holder', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  const b = await connected(candidate('ctl-b'));
  await a.lease.start();
  await b.lease.start();
  await b.lease.stop();
  t.equal(await admin.get(key), 'ctl-a', "the standby's stop left the holder's key alone");
  await a.lease.stop();
  await sleep(timings.retryEveryMs * 4);
  t.equal(b.acquiredAt, undefined);
  t.equal(await admin.get(key), null);
});

t.test('a lease that vanished from Redis (a flush) is taken back by its holder, not lost', async (t) => {
  const { key, candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  await a.lease.start();
  await admin.del(key);
  await until('key back', async () => (await admin.get(key)) === 'ctl-a', 1_000);
  t.equal(a.lease.role, 'active');
  t.equal(a.lostAt, undefined);
});

t.test('a holder that cannot start driving Asterisk gives the lease up', async (t) => {
  const { candidate } = setup(t);
  const a = await connected(
    candidate('ctl-a', async () => {
      throw new Error('PostgreSQL refused');
    }),
  );
  await a.lease.start();
  t.equal(a.lease.role, 'fenced');
  t.match(a.lostReason, /could not start driving Asterisk: PostgreSQL refused/);
});

t.test('lease timings: defaults, and a renewal that cannot fit in a lease is refused', async (t) => {
  t.same(leaseTimings(), { ttlMs: 3_000, renewEveryMs: 1_000, retryEveryMs: 250 });
  t.same(leaseTimings({ leaseTtlMs: 4_000 }), { ttlMs: 4_000, renewEveryMs: 1_000, retryEveryMs: 250 });
  t.throws(() => leaseTimings({ leaseTtlMs: 1_000, renewEveryMs: 800 }), { code: 'REXIAN_CONFIG_INVALID' });
  t.throws(() => leaseTimings({ leaseTtlMs: 1_000, retryEveryMs: 1_000 }), { code: 'REXIAN_CONFIG_INVALID' });
});

t.test('a holder frozen past its lease may send Asterisk nothing on waking, before its fence fires', async (t) => {
  const { candidate } = setup(t);
  const a = await connected(candidate('ctl-a'));
  await a.lease.start();
  t.equal(a.lease.role, 'active');
  t.ok(a.lease.mayDrive, 'the holder may drive while its lease is valid');
  // Frozen: the event loop blocked for longer than the lease (no timer can run meanwhile).
  const frozenUntil = Date.now() + timings.ttlMs + 100;
  while (Date.now() < frozenUntil) {
    /* a long pause */
  }
  t.equal(a.lease.role, 'active', 'no timer has run yet: its role still says active');
  t.notOk(a.lease.mayDrive, 'but the clock says the lease ran out: nothing is sent');
  await until('fenced', () => a.lease.role === 'fenced', 2_000);
  t.notOk(a.lease.mayDrive, 'fenced: nothing');
  const standby = await connected(candidate('ctl-b'));
  t.ok(standby.lease.mayDrive, 'a standby may send the requests that drive no call');
});
