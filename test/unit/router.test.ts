// The routing decisions, against real Redis (the Lua is the logic).
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import t from 'tap';

import { type Match, type MatchResult, Router } from '../../src/acd/router.js';
import { WaitingList } from '../../src/acd/waiting.js';
import { deleteKeys } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

function pair(result: MatchResult): Match | undefined {
  if (result && 'deferTo' in result) throw new Error(`unexpected deferral to ${result.deferTo}`);
  return result;
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const prefix = `rexian-test:router:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(redis, prefix));
  return { prefix, router: new Router(redis, prefix), waiting: new WaitingList(redis, prefix) };
}

t.test('priority first, then first come first served', async (t) => {
  const { router, waiting } = await setup(t);
  await router.registerAgent('a1', { general: 1 });
  await waiting.enqueue('general', 'early-low', 0, 1000);
  await waiting.enqueue('general', 'late-high', 5, 2000);
  await waiting.enqueue('general', 'later-low', 0, 1500);
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    await router.setAgentState('a1', 'ready', '', '', 10 + i);
    order.push(pair(await router.match([{ queue: 'general', skills: ['general'] }]))!.callId);
  }
  t.same(order, ['late-high', 'early-low', 'later-low']);
});

t.test('the best-skilled agent serves, and among equals the longest idle', async (t) => {
  const { router, waiting } = await setup(t);
  await router.registerAgent('novice', { general: 1 });
  await router.registerAgent('expert-recent', { general: 9 });
  await router.registerAgent('expert-idle', { general: 9 });
  await router.setAgentState('novice', 'ready', '', '', 100);
  await router.setAgentState('expert-recent', 'ready', '', '', 300);
  await router.setAgentState('expert-idle', 'ready', '', '', 200);
  await waiting.enqueue('general', 'c1', 0, 1);
  await waiting.enqueue('general', 'c2', 0, 2);
  await waiting.enqueue('general', 'c3', 0, 3);
  const agents = [];
  for (let i = 0; i < 3; i++)
    agents.push(pair(await router.match([{ queue: 'general', skills: ['general'] }]))!.agentId);
  t.same(agents, ['expert-idle', 'expert-recent', 'novice']);
  t.equal(pair(await router.match([{ queue: 'general', skills: ['general'] }])), undefined, 'nobody left');
});

t.test('an agent without the skill is never offered the call; overflow skills widen the pool', async (t) => {
  const { router, waiting } = await setup(t);
  await router.registerAgent('talent-only', { talent: 5 });
  await router.setAgentState('talent-only', 'ready');
  await waiting.enqueue('enterprise', 'c1', 0);
  t.equal(pair(await router.match([{ queue: 'enterprise', skills: ['enterprise'] }])), undefined);
  const m = pair(await router.match([{ queue: 'enterprise', skills: ['enterprise', 'talent'] }]));
  t.same([m?.callId, m?.agentId], ['c1', 'talent-only'], 'after widening, a secondary-skill agent takes it');
});

t.test("an overflow rule's skills reach only the callers who arrived by its cutoff", async (t) => {
  const { router, waiting } = await setup(t);
  for (const id of ['backup-1', 'backup-2']) {
    await router.registerAgent(id, { general: 5 });
    await router.setAgentState(id, 'ready');
  }
  // First in line: a young caller of higher priority; behind them the one who has waited long.
  await waiting.enqueue('specialist', 'young-urgent', 5, 9_000);
  await waiting.enqueue('specialist', 'old', 0, 1_000);
  const request = { queue: 'specialist', skills: ['specialist'], overflow: [{ skill: 'general', arrivedBy: 5_000 }] };
  const m = pair(await router.match([request]));
  t.same([m?.callId, m?.agentId], ['old', 'backup-1'], 'the caller past the cutoff goes to a backup agent');
  t.equal(
    pair(await router.match([request])),
    undefined,
    'the young caller waits for a specialist, though a backup agent is free',
  );
  const later = pair(await router.match([{ ...request, overflow: [{ skill: 'general', arrivedBy: 9_000 }] }]));
  t.same([later?.callId, later?.agentId], ['young-urgent', 'backup-2'], 'once the cutoff reaches them, they go too');
});

t.test("a predictive rule's skills reach only the callers named late, wherever they are in line", async (t) => {
  const { router, waiting } = await setup(t);
  await router.registerAgent('backup', { general: 5 });
  await router.setAgentState('backup', 'ready');
  for (const [i, id] of ['first', 'second', 'third'].entries()) await waiting.enqueue('specialist', id, 0, 1_000 + i);
  const request = { queue: 'specialist', skills: ['specialist'], overflow: [{ skill: 'general', late: true }] };
  t.equal(pair(await router.match([{ ...request, late: [] }])), undefined, 'nobody late: nobody overflows');
  const m = pair(await router.match([{ ...request, late: ['third'] }]));
  t.same(
    [m?.callId, m?.agentId],
    ['third', 'backup'],
    'the late caller goes, ahead of the two a specialist will reach',
  );
  for (let i = 0; i < 6; i++) await waiting.enqueue('specialist', `later-${i}`, 0, 2_000 + i);
  await router.setAgentState('backup', 'ready');
  const deep = pair(await router.match([{ ...request, late: ['later-5'] }]));
  t.equal(deep?.callId, 'later-5', 'a late caller eighth in line is reached too');
});

t.test('reserving takes the agent out of every ready set and logs the change', async (t) => {
  const { prefix, router, waiting } = await setup(t);
  await router.registerAgent('multi', { general: 5, talent: 3 });
  await router.setAgentState('multi', 'ready');
  await waiting.enqueue('talent', 'c1', 0);
  await waiting.enqueue('general', 'c2', 0);
  const m = pair(await router.match([{ queue: 'talent', skills: ['talent'] }]));
  t.equal(m?.agentId, 'multi');
  t.equal(await redis.zcard(`${prefix}:ready:general`), 0);
  t.equal(
    pair(await router.match([{ queue: 'general', skills: ['general'] }])),
    undefined,
    'a reserved agent gets no second call',
  );
  t.match(await router.agent('multi'), { state: 'reserved', call: 'c1' });
  const events = await redis.xrange(`${prefix}:agent-events`, '-', '+');
  t.same(
    events.map(([, f]) => f[f.indexOf('state') + 1]),
    ['ready', 'reserved'],
    'every state change is kept, with its time',
  );
});

t.test('a failed offer puts the call back at its exact place', async (t) => {
  const { router, waiting } = await setup(t);
  await router.registerAgent('a1', { general: 1 });
  await router.setAgentState('a1', 'ready');
  await waiting.enqueue('general', 'first', 0, 1000);
  await waiting.enqueue('general', 'second', 0, 2000);
  const m = pair(await router.match([{ queue: 'general', skills: ['general'] }]));
  t.equal(m?.callId, 'first');
  t.equal(await router.returnCall('first'), 'general');
  t.same(await waiting.waiting('general'), ['first', 'second'], 'still ahead of the later caller');
});

t.test('two routers on two connections never double-offer', async (t) => {
  const { prefix, waiting } = await setup(t);
  const other = new Redis('redis://127.0.0.1:6379');
  t.teardown(() => other.disconnect());
  const r1 = new Router(redis, prefix);
  const r2 = new Router(other, prefix);
  for (let i = 0; i < 60; i++) {
    await r1.registerAgent(`a${i}`, { general: 1 + (i % 3) });
    await r1.setAgentState(`a${i}`, 'ready', '', '', i);
  }
  for (let i = 0; i < 100; i++) await waiting.enqueue('general', `c${i}`, i % 2, i);
  const matches = (
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) =>
        pair(await (i % 2 ? r1 : r2).match([{ queue: 'general', skills: ['general'] }])),
      ),
    )
  ).filter(Boolean);
  t.equal(matches.length, 60, 'as many offers as agents');
  t.equal(new Set(matches.map((m) => m!.agentId)).size, 60, 'no agent offered twice');
  t.equal(new Set(matches.map((m) => m!.callId)).size, 60, 'no call offered twice');
  t.equal((await waiting.waiting('general')).length, 40);
});

t.test('a call owned by another live controller is deferred to it, never served out of order', async (t) => {
  const { prefix, router, waiting } = await setup(t);
  await router.registerAgent('a1', { general: 1 });
  await router.setAgentState('a1', 'ready');
  await waiting.enqueue('general', 'theirs', 0, 1000);
  await waiting.enqueue('general', 'mine', 0, 2000);
  await redis.hset(`${prefix}:qcall:theirs`, 'owner', 'ctl-b');
  await redis.hset(`${prefix}:qcall:mine`, 'owner', 'ctl-a');
  await redis.set(`${prefix}:controller:ctl-b`, '1', 'PX', 5000);
  t.same(
    await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-a'),
    { deferTo: 'ctl-b' },
    'the older call is theirs: defer',
  );
  t.match(
    pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-b')),
    { callId: 'theirs', agentId: 'a1' },
    'its owner serves it',
  );
  await router.setAgentState('a1', 'ready');
  await redis.del(`${prefix}:controller:ctl-b`);
  await waiting.enqueue('general', 'orphan', 0, 500);
  await redis.hset(`${prefix}:qcall:orphan`, 'owner', 'ctl-b');
  t.match(
    pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-a')),
    { callId: 'mine' },
    "a dead controller's call is skipped, not blocking the queue",
  );
});

t.test('state changes can be conditional, and wrap-up is tracked until it is due', async (t) => {
  const { prefix, router } = await setup(t);
  await router.registerAgent('a1', { general: 1, talent: 2 });
  t.same(
    await router.setAgentState('a1', 'ready', '', '', 1000, { expect: ['reserved'] }),
    { changed: false, previous: 'logged-out' },
    'refused from the wrong state',
  );
  t.same(await router.setAgentState('a1', 'ready', '', '', 1000, { expect: ['logged-out'] }), {
    changed: true,
    previous: 'logged-out',
  });
  t.equal(await router.loggedIn('talent'), 1, 'counted as logged in per skill');
  await router.setAgentState('a1', 'wrap-up', 'general', 'c1', 2000, { wrapUntil: 5000 });
  t.same(await router.wrapUpsDue(4999), []);
  t.same(await router.wrapUpsDue(5000), ['a1']);
  await router.setAgentState('a1', 'logged-out');
  t.equal(await router.loggedIn('talent'), 0);
  t.same(await router.wrapUpsDue(99_999), [], 'leaving wrap-up clears it');
  t.equal(await redis.zcard(`${prefix}:ready:general`), 0);
});

t.test("overflow to another queue keeps the caller's place by age", async (t) => {
  const { router, waiting } = await setup(t);
  await waiting.enqueue('general', 'g-early', 0, 1000);
  await waiting.enqueue('general', 'g-late', 0, 3000);
  await waiting.enqueue('yihaoda', 'y-mid', 0, 2000);
  t.equal(await router.moveCall('y-mid', 'yihaoda', 'general'), true);
  t.same(await waiting.waiting('general'), ['g-early', 'y-mid', 'g-late']);
  t.equal(await router.moveCall('y-mid', 'yihaoda', 'general'), false, 'a call no longer waiting there does not move');
});

t.test('an agent whose state Redis lost is left alone: a change reports it missing instead of throwing', async (t) => {
  const { prefix, router } = await setup(t);
  const result = await router.setAgentState('ghost', 'wrap-up', 'general', 'c1', 10, { expect: ['on-call'] });
  t.match(result, { changed: false, missing: true }, 'the wrap-up of a call whose agent vanished goes on');
  t.equal(await redis.exists(`${prefix}:agent:ghost`), 0, 'no skill-less agent hash is made up');
  await router.registerAgent('known', { general: 1 });
  t.match(await router.setAgentState('known', 'ready', '', '', 11, { expect: ['logged-out'] }), {
    changed: true,
    previous: 'logged-out',
  });
});

t.test('a ready entry whose agent hash is gone is dropped, never reserved', async (t) => {
  const { prefix, router, waiting } = await setup(t);
  await router.registerAgent('real', { general: 5 });
  await router.setAgentState('real', 'ready', '', '', 20);
  await redis.zadd(`${prefix}:ready:general`, 1, 'ghost'); // better placed than 'real', but its hash is gone
  await waiting.enqueue('general', 'c1', 0, 1000);
  t.equal(pair(await router.match([{ queue: 'general', skills: ['general'] }])), undefined, 'not offered to the ghost');
  t.equal(await redis.exists(`${prefix}:agent:ghost`), 0, 'no hash made for it');
  t.equal(await redis.zscore(`${prefix}:ready:general`, 'ghost'), null, 'its ready entry is gone');
  t.equal(
    pair(await router.match([{ queue: 'general', skills: ['general'] }]))?.agentId,
    'real',
    'the next round offers the real agent',
  );
});
