// The alert decision (src/alerts/evaluate.ts), second by second on hand-made live figures:
// firing, the `for` hold, clearing, no re-fire while active, one alert per agent and per
// controller, and the service level of a recent window (src/alerts/window.ts).
import t from 'tap';

import { evaluate, type HoldState, type LiveView } from '../../src/alerts/evaluate.js';
import type { AlertRule } from '../../src/alerts/rules.js';
import { outboxGrowing, RecentWindow, trackOutbox } from '../../src/alerts/window.js';

const T0 = Date.parse('2025-03-01T08:00:00.000Z');

function live(over: Partial<LiveView> = {}): LiveView {
  return {
    now: T0,
    controllerId: 'ctl-a',
    queues: [{ queue: 'general', name: '综合', waitingNow: 0, longestWaitNowSeconds: 0, agents: { ready: 1 } }],
    agents: [{ id: '1001', state: 'ready', reason: '', since: new Date(T0 - 1000).toISOString() }],
    ariConnected: true,
    amiConnected: true,
    outboxLength: 0,
    outbox: undefined,
    recent: (_m, seconds) => ({
      seconds,
      answeredWithin: 0,
      answered: 0,
      abandoned: 0,
      shortAbandoned: 0,
      calls: 0,
      percent: null,
    }),
    ...over,
  };
}

const noAgentReady: AlertRule = {
  id: 'no-agent-ready',
  kind: 'waiting-no-agent-ready',
  severity: 'critical',
  forSeconds: 3,
};
const waitingNobodyReady = (now: number): LiveView =>
  live({
    now,
    queues: [{ queue: 'general', name: '综合', waitingNow: 2, longestWaitNowSeconds: 9, agents: { 'not-ready': 1 } }],
    agents: [{ id: '1001', state: 'not-ready', reason: 'break', since: new Date(T0).toISOString() }],
  });

/** Runs the rules over a sequence of seconds; returns what fired and cleared at each. */
function run(rules: AlertRule[], views: LiveView[]): Array<{ fire: string[]; clear: string[] }> {
  let state: Map<string, HoldState> = new Map();
  return views.map((v) => {
    const step = evaluate(rules, v, state);
    state = step.state;
    return { fire: step.fire.map((o) => o.key), clear: step.clear };
  });
}

t.test('callers waiting while no agent is ready fires once it has held for its `for`, once', async (t) => {
  const steps = run(
    [noAgentReady],
    [0, 1, 2, 3, 4, 5].map((s) => waitingNobodyReady(T0 + s * 1000)),
  );
  t.same(
    steps.map((s) => s.fire),
    [[], [], [], ['no-agent-ready'], [], []],
    'fires at 3 s, not before, and not again while active',
  );
  t.same(
    steps.flatMap((s) => s.clear),
    [],
  );
});

t.test('a condition that stops before its `for` never fires; one that stops after it clears, once', async (t) => {
  const brief = run(
    [noAgentReady],
    [waitingNobodyReady(T0), waitingNobodyReady(T0 + 2000), live({ now: T0 + 3000 }), waitingNobodyReady(T0 + 4000)],
  );
  t.same(
    brief.map((s) => [s.fire, s.clear]),
    [
      [[], []],
      [[], []],
      [[], []],
      [[], []],
    ],
    'the hold starts again from the new start (4 s), so nothing fires by 4 s',
  );
  const held = run(
    [noAgentReady],
    [waitingNobodyReady(T0), waitingNobodyReady(T0 + 3000), live({ now: T0 + 4000 }), live({ now: T0 + 5000 })],
  );
  t.same(
    held.map((s) => [s.fire, s.clear]),
    [
      [[], []],
      [['no-agent-ready'], []],
      [[], ['no-agent-ready']],
      [[], []],
    ],
  );
});

t.test('with a queue, only that queue counts: its waiting callers and its ready agents', async (t) => {
  const rule: AlertRule = { ...noAgentReady, id: 'q', queue: 'special', forSeconds: 0 };
  const view = live({
    queues: [
      { queue: 'general', name: '综合', waitingNow: 3, longestWaitNowSeconds: 20, agents: { ready: 0 } },
      { queue: 'special', name: '专项', waitingNow: 0, longestWaitNowSeconds: 0, agents: { ready: 0 } },
    ],
  });
  t.same(run([rule], [view])[0]!.fire, [], 'nobody waits in special');
  const waiting = live({
    queues: [
      { queue: 'general', name: '综合', waitingNow: 0, longestWaitNowSeconds: 0, agents: { ready: 4 } },
      { queue: 'special', name: '专项', waitingNow: 1, longestWaitNowSeconds: 2, agents: { ready: 0, 'on-call': 2 } },
    ],
  });
  const step = evaluate([rule], waiting, new Map());
  t.same(
    step.fire.map((o) => [o.key, o.queue, o.value]),
    [['q', 'special', 1]],
    "special's caller, though general has ready agents",
  );
  t.same(run([{ ...rule, queue: 'gone' }], [waiting])[0]!.fire, [], 'a queue not loaded has no alert');
});

t.test('an agent not ready too long: one alert per agent, cleared when that agent is ready', async (t) => {
  const rule: AlertRule = {
    id: 'long-break',
    kind: 'agent-not-ready',
    severity: 'warning',
    forSeconds: 0,
    minutes: 10,
    reasons: ['break'],
  };
  const since = new Date(T0).toISOString();
  const agents = (b: string) => [
    { id: '1001', state: 'not-ready', reason: 'break', since },
    { id: '1002', state: b, reason: b === 'not-ready' ? 'break' : '', since },
    { id: '1003', state: 'not-ready', reason: 'training', since },
  ];
  const at = (minutes: number, b: string): LiveView => live({ now: T0 + minutes * 60_000, agents: agents(b) });
  let state = new Map<string, HoldState>();
  const step1 = evaluate([rule], at(9, 'not-ready'), state);
  t.same(step1.fire, [], 'nine minutes is not ten');
  state = step1.state;
  const step2 = evaluate([rule], at(10.5, 'not-ready'), state);
  t.same(
    step2.fire.map((o) => [o.key, o.subjectAgent, o.value, o.threshold]),
    [
      ['long-break|agent:1001', '1001', 10.5, 10],
      ['long-break|agent:1002', '1002', 10.5, 10],
    ],
    'each agent on a break; training is not a reason the rule names',
  );
  t.notOk(
    step2.fire.some((o) => 'agentId' in o),
    'the agent is the subject, never agentId',
  );
  const step3 = evaluate([rule], at(11, 'ready'), step2.state);
  t.same(step3.fire, [], 'no re-fire for 1001');
  t.same(step3.clear, ['long-break|agent:1002'], '1002 is ready: only their alert clears');
});

t.test('longest wait, outbox length and the connections', async (t) => {
  const rules: AlertRule[] = [
    { id: 'wait', kind: 'longest-wait', severity: 'warning', forSeconds: 0, aboveSeconds: 60 },
    { id: 'backlog', kind: 'outbox-length', severity: 'critical', forSeconds: 0, above: 100 },
    { id: 'ari', kind: 'ari-disconnected', severity: 'critical', forSeconds: 0 },
    { id: 'ami', kind: 'ami-disconnected', severity: 'warning', forSeconds: 0 },
  ];
  const bad = live({
    queues: [
      { queue: 'general', name: '综合', waitingNow: 1, longestWaitNowSeconds: 75, agents: {} },
      { queue: 'special', name: '专项', waitingNow: 1, longestWaitNowSeconds: 30, agents: {} },
    ],
    outboxLength: 101,
    ariConnected: false,
  });
  const step = evaluate(rules, bad, new Map());
  t.same(
    step.fire.map((o) => [o.key, o.value, o.threshold, o.controller]),
    [
      ['wait', 75, 60, undefined],
      ['backlog', 101, 100, undefined],
      ['ari|controller:ctl-a', 0, 1, 'ctl-a'],
    ],
    'the longest wait of any queue; the ARI alert names this controller; AMI is up',
  );
  const fine = evaluate(rules, live({ now: T0 + 1000 }), step.state);
  t.same(fine.clear.sort(), ['ari|controller:ctl-a', 'backlog', 'wait']);
});

t.test('a rule removed by a reload clears its alerts', async (t) => {
  const rule: AlertRule = { ...noAgentReady, forSeconds: 0 };
  const fired = evaluate([rule], waitingNobodyReady(T0), new Map());
  t.equal(fired.fire.length, 1);
  t.same(evaluate([], waitingNobodyReady(T0 + 1000), fired.state).clear, ['no-agent-ready']);
});

t.test('service level over the last minutes: fires below the percent, not on too few calls', async (t) => {
  const rule: AlertRule = {
    id: 'sl',
    kind: 'service-level',
    severity: 'warning',
    forSeconds: 0,
    queue: 'general',
    seconds: 15,
    minutes: 30,
    belowPercent: 80,
    minCalls: 5,
  };
  const window = new RecentWindow(240 * 60_000, 1000);
  const counters = (answered: number, within: number, abandoned = 0, shortAbandoned = 0) => [
    { queue: 'general', date: '2025-03-01', answered, abandoned, shortAbandoned, within: { 10: within, 15: within } },
  ];
  // The day's figures before the window: 100 answered, all within 15 s; then quiet minutes.
  window.add(T0, counters(100, 100));
  for (let m = 1; m < 39; m++) window.add(T0 + m * 60_000, counters(100, 100));
  const view = (now: number): LiveView => live({ now, recent: (m, s, q) => window.serviceLevel(now, m, s, q) });
  // In the last 30 minutes: 4 answered, 1 within, 2 abandoned of which 1 short.
  const now = T0 + 40 * 60_000;
  window.add(now - 60_000, counters(102, 100, 1, 1));
  window.add(now, counters(104, 101, 2, 1));
  t.same(window.serviceLevel(now, 30, 15, 'general'), {
    seconds: 15,
    answeredWithin: 1,
    answered: 4,
    abandoned: 2,
    shortAbandoned: 1,
    calls: 5,
    percent: 20,
  });
  t.equal(window.coveredSeconds(now, 30), 30 * 60, 'the window starts at its start');
  const step = evaluate([rule], view(now), new Map());
  t.same(
    step.fire.map((o) => [o.key, o.value, o.threshold, o.queue]),
    [['sl', 20, 80, 'general']],
  );
  t.same(evaluate([{ ...rule, minCalls: 6 }], view(now), new Map()).fire, [], 'five calls are not six');
  t.equal(window.serviceLevel(now, 30, 20).percent, null, 'no queue targets 20 s');
});

t.test('a window with a gap in its figures covers less than asked, never more', async (t) => {
  const window = new RecentWindow(240 * 60_000, 1000);
  const c = (answered: number) => [
    { queue: 'general', date: '2025-03-01', answered, abandoned: 0, shortAbandoned: 0, within: { 15: answered } },
  ];
  window.add(T0, c(10));
  window.add(T0 + 60_000, c(20)); // then no controller ran for two hours
  window.add(T0 + 120 * 60_000, c(25));
  window.add(T0 + 121 * 60_000, c(27));
  t.equal(window.coveredSeconds(T0 + 121 * 60_000, 30), 60, 'from the first figures after the gap');
  t.match(window.serviceLevel(T0 + 121 * 60_000, 30, 15), { answered: 2 });
});

t.test('the recent window across midnight: the new day counts from zero', async (t) => {
  const window = new RecentWindow(60 * 60_000, 1000);
  const c = (date: string, answered: number, within: number) => [
    { queue: 'general', date, answered, abandoned: 0, shortAbandoned: 0, within: { 15: within } },
  ];
  window.add(T0, c('2025-03-01', 500, 490));
  window.add(T0 + 60_000, c('2025-03-01', 502, 490));
  window.add(T0 + 120_000, c('2025-03-02', 3, 3));
  t.match(window.serviceLevel(T0 + 120_000, 10, 15), { answered: 5, answeredWithin: 3, percent: 60 });
});

t.test('the outbox grows when it has not shrunk for the minutes and holds more than then', async (t) => {
  let trend = trackOutbox(undefined, 10, T0);
  trend = trackOutbox(trend, 12, T0 + 4 * 60_000);
  t.notOk(outboxGrowing(trend, T0 + 4 * 60_000, 5), 'four minutes');
  trend = trackOutbox(trend, 15, T0 + 5 * 60_000);
  t.ok(outboxGrowing(trend, T0 + 5 * 60_000, 5), 'five minutes, 10 → 15');
  trend = trackOutbox(trend, 3, T0 + 6 * 60_000);
  t.notOk(outboxGrowing(trend, T0 + 6 * 60_000, 5), 'the writer took some: the trend starts again');
  t.equal(trackOutbox(trend, 0, T0 + 7 * 60_000), undefined, 'empty');
});
