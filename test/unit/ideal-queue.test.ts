// The ideal queue that issue 17's benchmark compares rexian against: hand-worked schedules,
// rexian's routing order (priority, arrival; level, longest idle), overflow, patience, wrap-up.
import t from 'tap';

import {
  compareWithIdeal,
  type IdealAgent,
  type IdealCall,
  simulateIdealQueue,
  skillsAfter,
} from '../../bench/lib/ideal-queue.js';

const general = { general: { skills: ['general'] } };

t.test('one agent serves calls in arrival order with no set-up time', async (t) => {
  const calls: IdealCall[] = [
    { id: 'a', queue: 'general', arrivalMs: 0, talkMs: 10_000 },
    { id: 'b', queue: 'general', arrivalMs: 1_000, talkMs: 5_000 },
    { id: 'c', queue: 'general', arrivalMs: 2_000, talkMs: 1_000 },
  ];
  const out = simulateIdealQueue(calls, [{ id: 'x', skills: { general: 1 } }], general);
  t.same(
    out.map((o) => [o.id, o.waitMs, o.answered]),
    [
      ['a', 0, true],
      ['b', 9_000, true],
      ['c', 13_000, true],
    ],
  );
});

t.test('a higher priority call that arrived later is served first', async (t) => {
  const calls: IdealCall[] = [
    { id: 'busy', queue: 'general', arrivalMs: 0, talkMs: 10_000 },
    { id: 'old', queue: 'general', arrivalMs: 1_000, talkMs: 1_000 },
    { id: 'urgent', queue: 'general', arrivalMs: 2_000, talkMs: 1_000, priority: 5 },
  ];
  const out = simulateIdealQueue(calls, [{ id: 'x', skills: { general: 1 } }], general);
  t.equal(out[2]!.waitMs, 8_000, 'the urgent call is connected when the agent frees at 10 s');
  t.equal(out[1]!.waitMs, 10_000, 'the older call waits for the urgent one');
});

t.test('the agent with the highest level takes the call, then the one idle longest', async (t) => {
  const agents = [
    { id: 'low', skills: { general: 1 } },
    { id: 'high', skills: { general: 9 } },
  ];
  const [first] = simulateIdealQueue([{ id: 'a', queue: 'general', arrivalMs: 0, talkMs: 1_000 }], agents, general);
  t.equal(first!.agentId, 'high');
  const peers = [
    { id: 'p', skills: { general: 5 }, readyAtMs: 500 },
    { id: 'q', skills: { general: 5 }, readyAtMs: 100 },
  ];
  const [second] = simulateIdealQueue([{ id: 'b', queue: 'general', arrivalMs: 1_000, talkMs: 1_000 }], peers, general);
  t.equal(second!.agentId, 'q', 'q has been ready since 100 ms, p only since 500 ms');
});

t.test('an agent who is not ready yet takes no call until then', async (t) => {
  const out = simulateIdealQueue(
    [{ id: 'a', queue: 'general', arrivalMs: 0, talkMs: 1_000 }],
    [{ id: 'late', skills: { general: 1 }, readyAtMs: 3_000 }],
    general,
  );
  t.equal(out[0]!.waitMs, 3_000);
});

t.test('overflow widens the skills once the caller has waited long enough', async (t) => {
  const rules = {
    specialist: { skills: ['yhd'], overflow: [{ afterMs: 4_000, skills: ['general'] }] },
    general: { skills: ['general'] },
  };
  t.same(skillsAfter(rules.specialist, 3_999), ['yhd']);
  t.same(skillsAfter(rules.specialist, 4_000), ['yhd', 'general']);
  const calls: IdealCall[] = [
    { id: 's1', queue: 'specialist', arrivalMs: 0, talkMs: 60_000 },
    { id: 's2', queue: 'specialist', arrivalMs: 1_000, talkMs: 1_000 },
  ];
  const agents: IdealAgent[] = [
    { id: 'yhd', skills: { yhd: 5 } },
    { id: 'gen', skills: { general: 5 } },
  ];
  const out = simulateIdealQueue(calls, agents, rules);
  t.equal(out[1]!.agentId, 'gen', 'the second specialist call overflows to the general agent');
  t.equal(out[1]!.waitMs, 4_000, 'exactly when the overflow step is reached');
});

t.test('a caller whose patience runs out abandons, and wrap-up delays the next call', async (t) => {
  const rules = { general: { skills: ['general'], wrapUpMs: 2_000 } };
  const calls: IdealCall[] = [
    { id: 'a', queue: 'general', arrivalMs: 0, talkMs: 5_000 },
    { id: 'gone', queue: 'general', arrivalMs: 1_000, talkMs: 1_000, patienceMs: 3_000 },
    { id: 'b', queue: 'general', arrivalMs: 1_500, talkMs: 1_000 },
  ];
  const out = simulateIdealQueue(calls, [{ id: 'x', skills: { general: 1 } }], rules);
  t.same(out[1], { id: 'gone', waitMs: 3_000, answered: false });
  t.equal(out[2]!.waitMs, 5_500, 'b is connected after talk (5 s) and wrap-up (2 s): at 7 s');
});

t.test('a queue whose head finds no agent does not stop another queue being served', async (t) => {
  const rules = { yhd: { skills: ['yhd'] }, general: { skills: ['general'] } };
  const out = simulateIdealQueue(
    [
      { id: 'nobody', queue: 'yhd', arrivalMs: 0, talkMs: 1_000, patienceMs: 10_000 },
      { id: 'served', queue: 'general', arrivalMs: 10, talkMs: 1_000 },
    ],
    [{ id: 'g', skills: { general: 1 } }],
    rules,
  );
  t.equal(out[1]!.waitMs, 0);
  t.equal(out[0]!.answered, false);
});

t.test('a call naming a queue without a rule is refused by name', async (t) => {
  t.throws(() => simulateIdealQueue([{ id: 'z', queue: 'nope', arrivalMs: 0, talkMs: 1 }], [], general), {
    message: /call z names queue "nope"/,
  });
});

t.test('the comparison subtracts call by call and counts the service level over all offered calls', async (t) => {
  const ideal = [
    { id: 'a', waitMs: 0, answered: true },
    { id: 'b', waitMs: 1_000, answered: true },
    { id: 'c', waitMs: 20_000, answered: true },
  ];
  const measured = [
    { id: 'a', waitMs: 40, answered: true },
    { id: 'b', waitMs: 1_100, answered: true },
    { id: 'c', waitMs: 25_000, answered: false },
  ];
  const cmp = compareWithIdeal(measured, ideal, 10_000);
  t.equal(cmp.calls, 2, 'only calls answered in both runs are compared');
  t.equal(cmp.meanMs, 70);
  t.equal(cmp.p99Ms, 100);
  t.equal(cmp.serviceLevelMeasured, 2 / 3);
  t.equal(cmp.serviceLevelIdeal, 2 / 3);
});
