// The routing loop with a whenPredictedBelowTarget rule, against real Redis (router, waiting
// list, figures): the rule keeps a caller for the specialists while one is likely in time,
// overflows them the moment it is not, and routes again at that moment by itself.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import t from 'tap';

import type { AcdWiring } from '../../src/acd/core.js';
import { QueueStats } from '../../src/acd/figures.js';
import { builtInSettings, type QueueDefinition } from '../../src/acd/queue-config.js';
import { Router } from '../../src/acd/router.js';
import { Routing } from '../../src/acd/routing.js';
import { WaitingList } from '../../src/acd/waiting.js';
import { deleteKeys, sleep } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

const special: QueueDefinition = {
  ...builtInSettings,
  id: 'special',
  name: '一号答',
  priority: 0,
  skills: ['special'],
  targets: [{ seconds: 10, percent: 90 }],
  overflow: [{ whenPredictedBelowTarget: true, addSkills: ['general'] }],
};

/** Three busy specialists (12 s calls), one ready general agent; offers are recorded, not made. */
async function setup(t: { teardown(fn: () => unknown): void }) {
  const prefix = `rexian-test:overflow-routing:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(redis, prefix));
  const router = new Router(redis, prefix);
  const waiting = new WaitingList(redis, prefix);
  const stats = new QueueStats(redis, prefix);
  for (const id of ['s1', 's2', 's3']) await router.registerAgent(id, { special: 5 });
  await router.registerAgent('g1', { general: 5 });
  await router.setAgentState('g1', 'ready');
  await stats.handled('special', 12_000, 0);
  const offers: Array<{ callId: string; agentId: string }> = [];
  const acd = {
    deps: { router, waiting, stats, queues: () => ({ queues: new Map([['special', special]]) }) },
    log: pino({ level: 'silent' }),
    controllerId: 'me',
    calls: {
      run: (callId: string) => {
        offers.push({ callId, agentId: '' });
        return true;
      },
    },
    loggedInFor: async () => 3,
    wake: async () => undefined,
  } as unknown as AcdWiring;
  const routing = new Routing(acd);
  const join = (callId: string, enqueuedAt: number) =>
    waiting.join(callId, {
      queue: 'special',
      origin: 'special',
      priority: 0,
      enqueuedAt,
      owner: 'me',
      did: '7003',
      caller: '13900000000',
    });
  const agentOf = async (callId: string) => (await redis.hget(`${prefix}:offer:${callId}`, 'agent')) ?? undefined;
  return { routing, router, join, offers, agentOf };
}

t.test('a caller 3 s in line stays for the specialists; at 7 s they go to a general agent', async (t) => {
  const { routing, join, offers, agentOf } = await setup(t);
  await join('early', Date.now() - 3_000);
  await routing.route();
  t.same(offers, [], 'a specialist frees within the target more likely than not: no overflow yet');
  const { routing: routing2, join: join2, offers: offers2, agentOf: agentOf2 } = await setup(t);
  await join2('late', Date.now() - 7_000);
  await routing2.route();
  t.same(
    offers2.map((o) => o.callId),
    ['late'],
    'predicted to miss the 10 s target: overflowed at once',
  );
  t.equal(await agentOf2('late'), 'g1');
  t.equal(await agentOf('early'), undefined);
});

t.test('the third caller in line is overflowed at once, even after a second of waiting', async (t) => {
  const { routing, join, offers, agentOf } = await setup(t);
  const now = Date.now();
  await join('first', now - 1_200);
  await join('second', now - 1_100);
  await join('third', now - 1_000);
  await routing.route();
  // Three specialists on 12 s calls: the first two are likely reached in time, the third not.
  t.same(
    offers.map((o) => o.callId),
    ['third'],
    'the general agent takes the caller predicted late',
  );
  t.equal(await agentOf('third'), 'g1');
  t.equal(await agentOf('first'), undefined, 'the first in line stays for the specialists, who will be in time');
});

t.test(
  'the rule overflows the callers predicted late, not the queue: a fresh caller waits for a specialist',
  async (t) => {
    const { routing, router, join, offers, agentOf } = await setup(t);
    await router.registerAgent('g2', { general: 5 });
    await router.setAgentState('g2', 'ready');
    await join('late', Date.now() - 7_000);
    await join('fresh', Date.now() - 100);
    await routing.route();
    t.same(
      offers.map((o) => o.callId),
      ['late'],
      'only the caller predicted to miss the target goes to a general agent, though two are free',
    );
    t.equal(await agentOf('fresh'), undefined, 'the fresh caller keeps their place for the specialists');
  },
);

t.test('the rule fires on time by itself: no other event is needed', async (t) => {
  const { routing, join, offers, agentOf } = await setup(t);
  // Overflow is due at ≈ 6.2 s of waiting (10 s − 1 s ring − the median 2.8 s to a freeing).
  await join('waiting', Date.now() - 5_500);
  await routing.route();
  t.same(offers, [], 'not yet');
  await sleep(1_200);
  t.same(
    offers.map((o) => o.callId),
    ['waiting'],
    'routed again when the caller became predicted late',
  );
  t.equal(await agentOf('waiting'), 'g1');
});
