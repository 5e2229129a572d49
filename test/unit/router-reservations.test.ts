// Releasing a reservation whose call is gone, against real Redis (the Lua is the logic): a
// caller who left between the match and the offer is not put back in the queue as a ghost, and
// releasing one call's reservation never frees an agent reserved since for another call.
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
  const prefix = `rexian-test:reservations:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(redis, prefix));
  const router = new Router(redis, prefix);
  const waiting = new WaitingList(redis, prefix);
  await router.registerAgent('a1', { general: 5 });
  return { prefix, router, waiting };
}

const entry = {
  queue: 'general',
  origin: 'general',
  priority: 0,
  enqueuedAt: 1000,
  owner: 'ctl-x',
  did: '12345',
  caller: '13800000000',
};

t.test('a caller who left between the match and the offer is not put back in the queue', async (t) => {
  const { prefix, router, waiting } = await setup(t);
  await waiting.join('left', entry);
  await router.setAgentState('a1', 'ready');
  const m = pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-x'));
  t.same([m?.callId, m?.agentId], ['left', 'a1']);
  t.equal(await router.offerOf('left'), 'a1', 'the reservation is found by the call');
  await waiting.leave('left', 'general'); // the caller hangs up
  t.equal(await router.returnCall('left', { ifQueued: true }), undefined, 'nothing to put back');
  t.same(await waiting.waiting('general'), [], 'no ghost in the queue');
  t.equal(await redis.exists(`${prefix}:offer:left`), 0, 'the offer is gone');
  t.same(
    await router.reservations(),
    [{ agentId: 'a1', callId: 'left', since: Number((await router.agent('a1')).since) }],
    'the agent is still reserved until released',
  );
});

t.test('a caller still queued is put back at their exact place', async (t) => {
  const { router, waiting } = await setup(t);
  await waiting.join('stays', entry);
  await waiting.join('later', { ...entry, enqueuedAt: 2000 });
  await router.setAgentState('a1', 'ready');
  t.equal(pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-x'))?.callId, 'stays');
  t.equal(await router.returnCall('stays', { ifQueued: true }), 'general');
  t.same(await waiting.waiting('general'), ['stays', 'later'], 'first again');
});

t.test("releasing one call's reservation leaves an agent reserved since for another call alone", async (t) => {
  const { router, waiting } = await setup(t);
  await waiting.join('old', entry);
  await waiting.join('new', { ...entry, enqueuedAt: 2000 });
  await router.setAgentState('a1', 'ready');
  pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-x'));
  await router.setAgentState('a1', 'ready', '', '', Date.now(), { expect: ['reserved'], expectCall: 'old' });
  t.equal(
    pair(await router.match([{ queue: 'general', skills: ['general'] }], Date.now(), 'ctl-x'))?.callId,
    'new',
    'reserved again, for another call',
  );
  const late = await router.setAgentState('a1', 'ready', '', '', Date.now(), {
    expect: ['reserved'],
    expectCall: 'old',
  });
  t.same(late, { changed: false, previous: 'reserved' }, 'a late release of the old call changes nothing');
  t.match(await router.agent('a1'), { state: 'reserved', call: 'new' });
});
