// The agent-state feed (src/acd/agent-state-feed.ts) against real Redis and the router's own
// scripts: every change after the feed starts is told once, in order, with when, the state left
// and the wrap-up's end; a cut connection loses and repeats nothing; stop() stops it.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import t from 'tap';

import { AgentStateFeed, changeFromEntry } from '../../src/acd/agent-state-feed.js';
import { Router } from '../../src/acd/router.js';
import type { EventOf } from '../../src/events/catalogue.js';
import { EventNotifier } from '../../src/events/notifier.js';
import { deleteKeys, sleep, until } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

async function setup(t: { teardown(fn: () => unknown): void }) {
  const prefix = `rexian-test:state-feed:${randomBytes(4).toString('hex')}`;
  const notifier = new EventNotifier();
  const told: Array<EventOf<'agent.state'>> = [];
  notifier.subscribe((e) => {
    if (e.type === 'agent.state') told.push(e);
  });
  const feed = new AgentStateFeed({ redis, prefix, notifier, logger: pino({ level: 'silent' }), blockMs: 200 });
  t.teardown(async () => {
    await feed.stop();
    await deleteKeys(redis, prefix);
  });
  return { prefix, router: new Router(redis, prefix), feed, told };
}

t.test('an entry of the stream reads as the change it records', async (t) => {
  t.same(
    changeFromEntry([
      'agent',
      'a1',
      'state',
      'wrap-up',
      'reason',
      'general',
      'call',
      'c1',
      'previous',
      'on-call',
      'at',
      '1764590000000',
      'wrapUntil',
      '1764590030000',
    ]),
    {
      agentId: 'a1',
      state: 'wrap-up',
      reason: 'general',
      callId: 'c1',
      since: '2025-12-01T11:53:20.000Z',
      previous: 'on-call',
      wrapUpUntil: '2025-12-01T11:53:50.000Z',
    },
  );
  t.same(
    changeFromEntry([
      'agent',
      'a1',
      'state',
      'reserved',
      'call',
      'c2',
      'queue',
      'general',
      'previous',
      'ready',
      'at',
      '1764590000000',
    ]),
    {
      agentId: 'a1',
      state: 'reserved',
      reason: '',
      callId: 'c2',
      since: '2025-12-01T11:53:20.000Z',
      previous: 'ready',
    },
    "the router's reservation names no reason",
  );
  t.notOk(changeFromEntry(['agent', 'a1', 'state', 'dancing', 'at', '1']), 'a state this version does not know');
  t.notOk(changeFromEntry(['state', 'ready', 'at', '1']), 'no agent');
  t.match(changeFromEntry(['agent', 'a1', 'state', 'ready', 'call', '', 'previous', 'bogus', 'at', '5']), {
    agentId: 'a1',
    state: 'ready',
    since: '1970-01-01T00:00:00.005Z',
  });
  t.notOk(
    'callId' in changeFromEntry(['agent', 'a1', 'state', 'ready', 'call', '', 'at', '5'])!,
    'an empty call is none',
  );
  t.match(
    changeFromEntry([
      'agent',
      'a1',
      'state',
      'ready',
      'call',
      '',
      'previous',
      'reserved',
      'previousCall',
      'c7',
      'at',
      '5',
    ]),
    { state: 'ready', callId: 'c7' },
    'a released reservation names the call it was for',
  );
});

t.test(
  'every change after the start is told once, in order, with when, the state left and the wrap-up end',
  async (t) => {
    const { router, feed, told } = await setup(t);
    await router.registerAgent('a1', { general: 5 });
    await router.setAgentState('a1', 'not-ready', 'login', '', 1000);
    feed.start();
    await sleep(300); // the feed has read the stream's end: the change before is not told
    await router.setAgentState('a1', 'ready', '', '', 2000);
    await router.setAgentState('a1', 'reserved', '', 'c1', 3000, { expect: ['ready'] });
    await router.setAgentState('a1', 'on-call', '', 'c1', 4000, { expect: ['reserved'] });
    await router.setAgentState('a1', 'wrap-up', 'general', 'c1', 5000, { expect: ['on-call'], wrapUntil: 35_000 });
    await router.setAgentState('a1', 'ready', '', '', 6000, { expect: ['ready'] }); // refused: not told
    await router.setAgentState('a1', 'ready', '', '', 7000, { expect: ['wrap-up'] });
    await until('five changes told', () => told.length >= 5, 5_000);
    await sleep(300);
    t.same(
      told.map((e) => [e.state, e.previous, e.since]),
      [
        ['ready', 'not-ready', new Date(2000).toISOString()],
        ['reserved', 'ready', new Date(3000).toISOString()],
        ['on-call', 'reserved', new Date(4000).toISOString()],
        ['wrap-up', 'on-call', new Date(5000).toISOString()],
        ['ready', 'wrap-up', new Date(7000).toISOString()],
      ],
      'told in order, none before the start, a refused change not at all',
    );
    t.match(told[3], { agentId: 'a1', reason: 'general', callId: 'c1', wrapUpUntil: new Date(35_000).toISOString() });
    t.notOk('wrapUpUntil' in told[4]!, 'no wrap-up end outside wrap-up');
    t.match(told[4], { callId: 'c1' }, 'the end of the wrap-up names the call it took the agent off');
    t.notOk('callId' in told[0]!, 'no call when there is none');
  },
);

t.test("the router's reservation of a match is told as reserved, from ready", async (t) => {
  const { prefix, router, feed, told } = await setup(t);
  await router.registerAgent('a1', { general: 5 });
  await router.setAgentState('a1', 'ready');
  feed.start();
  await sleep(300);
  await redis.zadd(`${prefix}:queue:general:waiting`, 1, 'call-9');
  await router.match([{ queue: 'general', skills: ['general'] }]);
  await until('the reservation told', () => told.length >= 1, 5_000);
  t.match(told[0], { agentId: 'a1', state: 'reserved', previous: 'ready', callId: 'call-9', reason: '' });
});

t.test('a cut Redis connection loses no change and repeats none', async (t) => {
  const { prefix, router, feed, told } = await setup(t);
  await router.registerAgent('a1', { general: 5 });
  feed.start();
  await sleep(300);
  await router.setAgentState('a1', 'not-ready', 'login', '', 1000);
  await until('first change told', () => told.length === 1, 5_000);
  // Cut the feed's own connection (by its name): its blocking read fails, ioredis reconnects.
  const clients = String(await redis.client('LIST')).split('\n');
  const mine = clients.find((c) => c.includes(`name=agent-state-feed:${prefix}`));
  t.ok(mine, "the feed's connection is named in CLIENT LIST");
  const id = /\bid=(\d+)/.exec(mine ?? '')?.[1];
  await redis.client('KILL', 'ID', id!);
  await router.setAgentState('a1', 'ready', '', '', 2000); // made while the feed reconnects
  await router.setAgentState('a1', 'not-ready', 'break', '', 3000);
  await until('both changes told', () => told.length >= 3, 10_000);
  await sleep(500);
  t.same(
    told.map((e) => e.state),
    ['not-ready', 'ready', 'not-ready'],
    'the changes made meanwhile are told, the one told before is not told again',
  );
});

t.test('after stop() nothing more is told', async (t) => {
  const { router, feed, told } = await setup(t);
  await router.registerAgent('a1', { general: 5 });
  feed.start();
  await sleep(300);
  await feed.stop();
  await router.setAgentState('a1', 'ready');
  await sleep(500);
  t.equal(told.length, 0);
});
