// The event catalogue (src/events/catalogue.ts): the notifier sends each event in the shape the
// pages and the integration tests read, and the stream routes each type to whom it concerns.
// The samples are typed against the union, one per type: an event added to the catalogue
// without a sample here, or a field renamed, fails the typecheck (the drift check).
import t from 'tap';

import type { OverallFigures, QueueFigures } from '../../src/acd/figures.js';
import { mayKnowAlert } from '../../src/alerts/routes.js';
import type { Principal } from '../../src/api/auth.js';
import { forStream, visibleTo } from '../../src/api/events.js';
import type { EventOf, RexianEvent, RexianEventType } from '../../src/events/catalogue.js';
import { EventNotifier } from '../../src/events/notifier.js';

const pop = {
  line: '12345 政务服务便民热线',
  did: '12345',
  caller: '13800000081',
  callerMasked: false,
  privacy: false,
  ivrPath: ['welcome', 'menu'],
  digits: { menu: '1' },
  waitSeconds: 3.2,
};
const queue: QueueFigures = {
  queue: 'general',
  name: '综合',
  date: '2025-03-01',
  offered: 3,
  answered: 2,
  abandoned: 1,
  shortAbandoned: 0,
  leftQueue: 0,
  overflowedOut: 0,
  callbacksRequested: 0,
  serviceLevel: [{ seconds: 20, targetPercent: 80, answeredWithin: 2, percent: 66.67, answeredOnlyPercent: 100 }],
  formula: 'answered within / (answered + abandoned − short abandons)',
  averageSpeedOfAnswerSeconds: 4,
  longestAnsweredWaitSeconds: 6,
  waitingNow: 0,
  longestWaitNowSeconds: 0,
  averageHandleTimeSeconds: 120,
  agents: { ready: 1 },
  arrivalRatePerHour: 12,
  erlangC: { agentsNeeded: 1, predictedServiceLevelPercent: 90, loggedIn: 1, handleTimeSeconds: 120 },
};
const overall: OverallFigures = {
  offered: 3,
  answered: 2,
  abandoned: 1,
  shortAbandoned: 0,
  leftQueue: 0,
  waitingNow: 0,
  longestWaitNowSeconds: 0,
  serviceLevel: [{ seconds: 20, answeredWithin: 2, percent: 66.67 }],
  agents: { ready: 1 },
};

/** One sample of every type in the catalogue, as it goes on the wire (without `at`), about agent 1001. */
const samples: { [T in RexianEventType]: EventOf<T> } = {
  'agent.offer': {
    type: 'agent.offer',
    agentId: '1001',
    callId: 'c1',
    queue: 'general',
    tags: ['housing'],
    callback: false,
    ...pop,
  },
  'agent.offer-withdrawn': { type: 'agent.offer-withdrawn', agentId: '1001', callId: 'c1', cause: 'no answer' },
  'agent.call': { type: 'agent.call', agentId: '1001', callId: 'c1', state: 'released', why: 'transfer' },
  'agent.consult': {
    type: 'agent.consult',
    agentId: '1001',
    callId: 'c1',
    state: 'ringing',
    with: '赵敏 (2001)',
    mode: 'attended',
  },
  'agent.consult-failed': {
    type: 'agent.consult-failed',
    agentId: '1001',
    callId: 'c1',
    with: '赵敏 (2001)',
    cause: 'no answer',
  },
  'agent.transfer-failed': {
    type: 'agent.transfer-failed',
    agentId: '1001',
    callId: 'c1',
    with: '02367720001',
    cause: 'Busy',
  },
  'agent.emergency': {
    type: 'agent.emergency',
    agentId: '1001',
    callId: 'c1',
    number: '110',
    at: '2025-03-01T08:00:00.000Z',
  },
  'agent.emergency-answered': {
    type: 'agent.emergency-answered',
    agentId: '1001',
    callId: 'c1',
    number: '120',
    at: '2025-03-01T08:00:05.000Z',
  },
  'agent.emergency-failed': {
    type: 'agent.emergency-failed',
    agentId: '1001',
    callId: 'c1',
    number: '110',
    cause: 'no answer',
  },
  'agent.state': {
    type: 'agent.state',
    agentId: '1001',
    state: 'on-call',
    reason: 'state-rebuilt',
    callId: 'c1',
    since: '2025-03-01T08:00:00.000Z',
    previous: 'logged-out',
  },
  'queue.figures': { type: 'queue.figures', queues: [queue], overall },
  'alert.fired': {
    type: 'alert.fired',
    alertId: 'al-0123456789abcdef',
    rule: 'no-agent-ready',
    kind: 'waiting-no-agent-ready',
    severity: 'critical',
    queue: 'general',
    value: 2,
    threshold: 0,
    message: { 'zh-CN': '综合有 2 位来电在等待，但没有坐席就绪', en: '综合: 2 callers waiting and no agent is ready' },
    firedAt: '2025-03-01T08:00:00.000Z',
  },
  'alert.cleared': {
    type: 'alert.cleared',
    alertId: 'al-0123456789abcdef',
    rule: 'no-agent-ready',
    clearedAt: '2025-03-01T08:05:00.000Z',
  },
  'alert.acknowledged': {
    type: 'alert.acknowledged',
    alertId: 'al-0123456789abcdef',
    rule: 'no-agent-ready',
    by: '周班长',
    acknowledgedAt: '2025-03-01T08:01:00.000Z',
  },
};

t.test('the notifier sends every event of the catalogue in the shape the stream has always sent', async (t) => {
  const notifier = new EventNotifier();
  const sent: RexianEvent[] = [];
  const stop = notifier.subscribe((event) => sent.push(event));
  notifier.agentOffer({ agentId: '1001', callId: 'c1', queue: 'general', tags: ['housing'], callback: false, ...pop });
  notifier.agentOfferWithdrawn('1001', 'c1', 'no answer');
  notifier.agentCall('1001', 'c1', 'released', 'transfer');
  notifier.agentConsult('1001', 'c1', 'ringing', '赵敏 (2001)', 'attended');
  notifier.agentConsultFailed('1001', 'c1', '赵敏 (2001)', 'no answer');
  notifier.agentTransferFailed('1001', 'c1', '02367720001', 'Busy');
  notifier.agentEmergency('1001', 'c1', '110', '2025-03-01T08:00:00.000Z');
  notifier.agentEmergencyAnswered('1001', 'c1', '120', '2025-03-01T08:00:05.000Z');
  notifier.agentEmergencyFailed('1001', 'c1', '110', 'no answer');
  notifier.agentState('1001', 'on-call', 'state-rebuilt', 'c1', {
    since: '2025-03-01T08:00:00.000Z',
    previous: 'logged-out',
  });
  notifier.queueFigures([queue], overall);
  const { type: _fired, ...fired } = samples['alert.fired'];
  notifier.alertFired(fired);
  notifier.alertCleared('al-0123456789abcdef', 'no-agent-ready', '2025-03-01T08:05:00.000Z');
  notifier.alertAcknowledged('al-0123456789abcdef', 'no-agent-ready', '周班长', '2025-03-01T08:01:00.000Z');
  t.same(sent, Object.values(samples), 'one method per event, each the catalogued shape');
  t.same(sent.map((e) => e.type).sort(), Object.keys(samples).sort(), 'every type of the catalogue has a method');

  // Optional fields are left out, not sent as null or undefined (the JSON has no such key).
  sent.length = 0;
  notifier.agentCall('1001', 'c1', 'held');
  notifier.agentConsult('1001', 'c1', 'ended', '赵敏 (2001)');
  notifier.agentState('1002', 'logged-out', 'state-lost');
  notifier.agentOffer({ agentId: '2001', callId: 'c1', queue: 'general', transferredBy: '1001', ...pop });
  t.same(
    sent.map((e) => Object.keys(e).sort()),
    [
      ['agentId', 'callId', 'state', 'type'],
      ['agentId', 'callId', 'state', 'type', 'with'],
      ['agentId', 'reason', 'since', 'state', 'type'],
      [
        'agentId',
        'callId',
        'caller',
        'callerMasked',
        'did',
        'digits',
        'ivrPath',
        'line',
        'privacy',
        'queue',
        'transferredBy',
        'type',
        'waitSeconds',
      ],
    ],
  );

  stop();
  notifier.agentCall('1001', 'c1', 'talking');
  t.equal(sent.length, 4, 'a sink that stopped gets nothing more');
});

t.test(
  "the stream routes each type: an agent its own, a supervisor their teams', ops and admins everything",
  async (t) => {
    const teamOf = (id: string): string | undefined => (({ '1001': 'a', '1002': 'b' }) as Record<string, string>)[id];
    const who: Record<string, Principal> = {
      'agent 1001': { name: 'a1', role: 'agent', agentId: '1001' },
      'agent 1002': { name: 'a2', role: 'agent', agentId: '1002' },
      'supervisor of a': { name: 's', role: 'supervisor', teams: ['a'] },
      'supervisor of b': { name: 's', role: 'supervisor', teams: ['b'] },
      ops: { name: 'o', role: 'ops' },
      admin: { name: 'root', role: 'admin' },
    };
    const agentEvent = {
      'agent 1001': true,
      'agent 1002': false,
      'supervisor of a': true,
      'supervisor of b': false,
      ops: true,
      admin: true,
    };
    const wallboard = {
      'agent 1001': false,
      'agent 1002': false,
      'supervisor of a': true,
      'supervisor of b': true,
      ops: true,
      admin: true,
    };
    const expected: { [T in RexianEventType]: Record<string, boolean> } = {
      'agent.offer': agentEvent,
      'agent.offer-withdrawn': agentEvent,
      'agent.call': agentEvent,
      'agent.consult': agentEvent,
      'agent.consult-failed': agentEvent,
      'agent.transfer-failed': agentEvent,
      'agent.emergency': agentEvent,
      'agent.emergency-answered': agentEvent,
      'agent.emergency-failed': agentEvent,
      'agent.state': agentEvent,
      'queue.figures': wallboard,
      'alert.fired': wallboard,
      'alert.cleared': wallboard,
      'alert.acknowledged': wallboard,
    };
    for (const event of Object.values(samples)) {
      const seen = Object.fromEntries(Object.entries(who).map(([name, p]) => [name, visibleTo(p, event, teamOf)]));
      t.same(seen, expected[event.type], event.type);
    }
    // An alert about one agent (not ready too long) is their team's business, not the floor's.
    const aboutAgent = { ...samples['alert.fired'], kind: 'agent-not-ready', subjectAgent: '1001' };
    const seen = Object.fromEntries(Object.entries(who).map(([name, p]) => [name, visibleTo(p, aboutAgent, teamOf)]));
    t.same(seen, { ...wallboard, 'supervisor of b': false }, "an alert about agent 1001 goes to team a's supervisor");
    const listed = Object.fromEntries(
      Object.entries(who).map(([name, p]) => [name, mayKnowAlert(p, aboutAgent, teamOf)]),
    );
    t.same(
      { ...listed, 'agent 1001': false, 'agent 1002': false },
      { ...wallboard, 'supervisor of b': false },
      'and GET /api/alerts lists it the same way (agents never reach that route)',
    );
    t.ok(
      mayKnowAlert(who['supervisor of b']!, samples['alert.fired'], teamOf),
      "the floor's alerts go to every supervisor",
    );
  },
);

t.test("a masked call's offer leaves the stream with the masked number only", async (t) => {
  const leaked = { ...samples['agent.offer'], callerMasked: true, caller: '13800000081' };
  t.equal(forStream(leaked).caller, '138****0081');
  t.equal(forStream(samples['agent.offer']).caller, '13800000081', 'an unmasked call keeps its number');
  t.equal(forStream(samples['queue.figures']), samples['queue.figures'], 'other events pass as they are');
});
