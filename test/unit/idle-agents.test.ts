// bench/lib/idle-agents.ts, on hand-worked schedules: how soon a waiting caller is offered
// once an agent is freed, and an agent left free while a caller waited.
import t from 'tap';

import { freedAgents } from '../../bench/lib/idle-agents.js';

t.test('an agent freed while a caller waits, who is offered 12 ms later: a gap, no idle', async (t) => {
  const r = freedAgents([
    { id: 'c1', queuedAt: 0, firstOfferAt: 5, agentId: 'a', offeredAt: 5, endAt: 1000 },
    { id: 'c2', queuedAt: 500, firstOfferAt: 1012, agentId: 'a', offeredAt: 1012, endAt: 2000 },
  ]);
  t.same(r.gapsMs, [12], 'c2 was waiting when c1 ended: offered 12 ms after');
  t.same(r.idle, []);
});

t.test('the next offer logged before the hang-up that freed the agent: never free', async (t) => {
  const r = freedAgents([
    { id: 'c1', queuedAt: 0, firstOfferAt: 5, agentId: 'a', offeredAt: 5, endAt: 1007 },
    { id: 'c2', queuedAt: 500, firstOfferAt: 1000, agentId: 'a', offeredAt: 1000, endAt: 3000 },
    { id: 'c3', queuedAt: 600, firstOfferAt: 3004, agentId: 'a', offeredAt: 3004, endAt: 4000 },
  ]);
  t.same(r.gapsMs, [4], 'only the freeing at 3000 counts; c3 was offered 4 ms after it');
  t.same(r.idle, [], 'c3 waited, but the agent was talking to c2 until 3000');
});

t.test('a caller who arrives while the agent is free and is offered at once: nothing to report', async (t) => {
  const r = freedAgents([
    { id: 'c1', queuedAt: 0, firstOfferAt: 5, agentId: 'a', offeredAt: 5, endAt: 1000 },
    { id: 'c2', queuedAt: 3000, firstOfferAt: 3010, agentId: 'a', offeredAt: 3010, endAt: 4000 },
  ]);
  t.same(r.gapsMs, [], 'nobody waited when the agent was freed');
  t.same(r.idle, [], 'offered 10 ms after arriving');
});

t.test('an agent free for 2 s while a caller waits is reported, with the wait', async (t) => {
  const r = freedAgents([
    { id: 'c0', queuedAt: 0, firstOfferAt: 1, agentId: 'b', offeredAt: 1, endAt: 3400 },
    { id: 'c1', queuedAt: 0, firstOfferAt: 5, agentId: 'a', offeredAt: 5, endAt: 1000 },
    { id: 'c2', queuedAt: 1500, firstOfferAt: 3500, agentId: 'b', offeredAt: 3500, endAt: 5000 },
  ]);
  t.same(r.idle, [{ agentId: 'a', freeAt: 1000, nextOfferAt: Infinity, callId: 'c2', waitedMs: 2000 }]);
  t.same(r.gapsMs, [100], "b's freeing at 3400 found c2 waiting, offered at 3500");
});

t.test('a caller taken by another agent within the limit does not count against the free one', async (t) => {
  const r = freedAgents([
    { id: 'c1', queuedAt: 0, firstOfferAt: 5, agentId: 'a', offeredAt: 5, endAt: 1000 },
    { id: 'c2', queuedAt: 900, firstOfferAt: 1020, agentId: 'b', offeredAt: 1020, endAt: 3000 },
  ]);
  t.same(r.gapsMs, [20], 'c2 was offered (to b) 20 ms after a was freed');
  t.same(r.idle, [], 'c2 waited 20 ms while a was free');
});
