// A call's durable record, built from its live state when it ends.
import t from 'tap';

import type { CallRecordState } from '../../src/calls/call.js';
import type { PrivacyPolicy } from '../../src/calls/privacy.js';
import { buildCallRecord } from '../../src/records/call-record.js';

const base = (flow: Record<string, unknown>): CallRecordState => ({
  callId: 'c1',
  channelId: 'c1',
  did: '12345',
  caller: '13800000111',
  startedAt: '2026-11-22T01:00:00.000Z',
  asteriskStartup: 's',
  flow,
});
const at = (s: string): number => Date.parse(`2026-11-22T01:${s}Z`);

t.test(
  'an answered call: path, wait, agents, talk without hold, hold, transfers, window, survey, recording',
  async (t) => {
    const r = buildCallRecord(
      base({
        previousFlows: [{ flowId: 'main-12345', version: 'v7', path: ['welcome', 'menu', 'yihaoda'] }],
        ivr: { flowId: 'survey', version: 'v1', path: ['ask'], vars: { survey: 'satisfied' } },
        acd: {
          queue: 'yihaoda',
          origin: 'yihaoda',
          enqueuedAt: at('00:20.000'),
          firstEnqueuedAt: at('00:20.000'),
          answeredAt: at('00:26.500'),
          firstAnsweredAt: at('00:26.500'),
          agentId: '2001',
          agents: ['2001'],
          talkMs: 95_000,
          holdMs: 12_000,
          transfers: 1,
          windowId: 'bdc',
          recording: 'c1-talk',
          hangupSide: 'agent',
          ivr: { path: ['welcome'], vars: { idTail: '1234' } },
        },
      }),
      new Date(at('02:30.000')),
      'hangup',
    );
    t.match(r, {
      callId: 'c1',
      direction: 'inbound',
      line: '12345 政务服务便民热线',
      flowId: 'main-12345',
      flowVersion: 'v7',
      ivrPath: ['welcome', 'menu', 'yihaoda'],
      digits: { idTail: '1234' },
      queue: 'yihaoda',
      enteredQueueAt: '2026-11-22T01:00:20.000Z',
      waitMs: 6500,
      answered: true,
      abandoned: false,
      agentId: '2001',
      agents: ['2001'],
      talkMs: 83_000,
      holdMs: 12_000,
      transfers: 1,
      windowId: 'bdc',
      survey: 'satisfied',
      recordings: ['c1-talk'],
      hangupSide: 'agent',
      endReason: 'hangup',
    });
  },
);

t.test('an abandoned call: wait up to the hang-up, no talk', async (t) => {
  const r = buildCallRecord(
    base({
      acd: { queue: 'general', origin: 'general', enqueuedAt: at('00:10.000'), abandoned: true, shortAbandon: true },
    }),
    new Date(at('00:13.000')),
    'hangup',
  );
  t.match(r, {
    answered: false,
    abandoned: true,
    shortAbandon: true,
    waitMs: 3000,
    talkMs: null,
    holdMs: null,
    agentId: null,
    agents: [],
    hangupSide: 'citizen',
  });
});

t.test('a call that never reached a queue, and an outbound callback', async (t) => {
  const ivrOnly = buildCallRecord(
    base({ ivr: { flowId: 'main-12345', version: 'v7', path: ['welcome', 'info'], vars: {} } }),
    new Date(at('01:00.000')),
    'hangup',
  );
  t.match(ivrOnly, {
    queue: null,
    waitMs: null,
    answered: false,
    abandoned: false,
    flowId: 'main-12345',
    ivrPath: ['welcome', 'info'],
  });
  const callback = buildCallRecord({ ...base({}), kind: 'callback' }, new Date(at('01:00.000')), 'asterisk-restarted');
  t.match(callback, { direction: 'outbound', endReason: 'asterisk-restarted', hangupSide: 'system' });
});

t.test(
  'legs and events: the citizen first, every party rung with its times, a leg still up ends with the call, the timeline ends with the end',
  async (t) => {
    const r = buildCallRecord(
      {
        ...base({
          acd: {
            queue: 'general',
            origin: 'general',
            enqueuedAt: at('00:05.000'),
            answeredAt: at('00:09.000'),
            agentId: '1001',
            agents: ['1001'],
          },
        }),
        events: [
          { at: '2026-11-22T01:00:00.000Z', type: 'entered', did: '12345' },
          { at: '2026-11-22T01:00:12.000Z', type: 'hold', agentId: '1001' },
        ],
        legInfo: {
          'c1-a1': {
            role: 'agent',
            party: '1002',
            dialledAt: '2026-11-22T01:00:05.000Z',
            endedAt: '2026-11-22T01:00:07.000Z',
            cause: 'No answer',
          },
          'c1-a2': {
            role: 'agent',
            party: '1001',
            dialledAt: '2026-11-22T01:00:07.000Z',
            answeredAt: '2026-11-22T01:00:09.000Z',
          },
          'c1-x3': {
            role: 'consult',
            party: 'window:bdc',
            dialledAt: '2026-11-22T01:00:20.000Z',
            answeredAt: '2026-11-22T01:00:24.000Z',
            endedAt: '2026-11-22T01:00:40.000Z',
            cause: 'Normal Clearing',
          },
        },
      },
      new Date(at('01:00.000')),
      'hangup',
    );
    t.same(
      r.legs.map((l) => [l.role, l.party, l.answeredAt !== null, l.endedAt, l.cause]),
      [
        ['citizen', '13800000111', true, '2026-11-22T01:01:00.000Z', 'hangup'],
        ['agent', '1002', false, '2026-11-22T01:00:07.000Z', 'No answer'],
        ['agent', '1001', true, '2026-11-22T01:01:00.000Z', 'call ended'],
        ['consult', 'window:bdc', true, '2026-11-22T01:00:40.000Z', 'Normal Clearing'],
      ],
    );
    t.same(
      r.events.map((e) => e.type),
      ['entered', 'hold', 'ended'],
    );
    t.match(r.events.at(-1), { at: '2026-11-22T01:01:00.000Z', reason: 'hangup' });
  },
);

t.test('a call through a virtual number: neither number in its legs or events', async (t) => {
  const r = buildCallRecord(
    {
      ...base({ maskingBinding: 'bd-1' }),
      legInfo: { 'c1-m': { role: 'far-party', party: '138****0502', dialledAt: '2026-11-22T01:00:01.000Z' } },
    },
    new Date(at('00:30.000')),
    'hangup',
  );
  t.notMatch(JSON.stringify(r), /13800000111/, 'the caller is masked everywhere in the record');
  t.equal(r.legs[0]!.party, '138****0111');
});

t.test('a hold still running when the citizen hangs up is counted, and talk excludes it', async (t) => {
  // Answered at :10, held from :20 to the end at :27.5 (7.5 s), an earlier 3 s hold resumed.
  const r = buildCallRecord(
    base({
      acd: {
        queue: 'general',
        origin: 'general',
        phase: 'connected',
        enqueuedAt: at('00:05.000'),
        answeredAt: at('00:10.000'),
        agentId: '1001',
        agentLeg: 'c1-a1',
        agents: ['1001'],
        talkMs: 17_500,
        holdMs: 3_000,
        held: true,
        heldSince: at('00:20.000'),
      },
    }),
    new Date(at('00:27.500')),
    'hangup',
  );
  t.equal(r.holdMs, 10_500, 'the earlier hold and the running one');
  t.equal(r.talkMs, 7_000, 'talk = time with the agent less hold');
});

t.test("a hold the agent left running counts only up to the agent's leaving", async (t) => {
  const r = buildCallRecord(
    {
      ...base({
        acd: {
          queue: 'general',
          origin: 'general',
          phase: 'done',
          enqueuedAt: at('00:05.000'),
          answeredAt: at('00:10.000'),
          agentId: '1001',
          agentLeg: 'c1-a1',
          agents: ['1001'],
          talkMs: 20_000,
          held: true,
          heldSince: at('00:25.000'),
          hangupSide: 'agent',
        },
      }),
      legInfo: {
        'c1-a1': {
          role: 'agent',
          party: '1001',
          dialledAt: '2026-11-22T01:00:05.000Z',
          answeredAt: '2026-11-22T01:00:10.000Z',
          endedAt: '2026-11-22T01:00:30.000Z',
        },
      },
    },
    new Date(at('00:50.000')),
    'hangup',
  );
  t.equal(r.holdMs, 5_000, 'held from :25 until the agent hung up at :30, not through the survey');
  t.equal(r.talkMs, 15_000);
});

t.test("a masked queue's call keeps no real number in its caller, legs or events", async (t) => {
  const policy: PrivacyPolicy = { isVirtual: () => false, queueMasks: (q) => q === 'enterprise' };
  const state: CallRecordState = {
    ...base({ acd: { queue: 'enterprise', origin: 'enterprise', enqueuedAt: at('00:05.000'), abandoned: true } }),
    events: [{ at: '2026-11-22T01:00:00.000Z', type: 'entered', did: '12345', caller: '13800000111' }],
  };
  const r = buildCallRecord(state, new Date(at('00:30.000')), 'hangup', policy);
  t.notMatch(JSON.stringify(r), /13800000111/, 'masked everywhere');
  t.match(r, { caller: '138****0111', callerMasked: true });
  t.equal(r.legs[0]!.party, '138****0111');
  const open = buildCallRecord(
    base({ acd: { queue: 'general', origin: 'general', enqueuedAt: at('00:05.000') } }),
    new Date(at('00:30.000')),
    'hangup',
    policy,
  );
  t.match(open, { caller: '13800000111', callerMasked: false }, 'a queue that shows numbers keeps it');
});

t.test(
  'a caller turned away by a full queue: the queue is named, the system ended it, queue-full is why',
  async (t) => {
    const r = buildCallRecord(
      base({
        ivr: {
          flowId: 'acd',
          version: 'v1',
          node: 'sorry',
          waiting: 'done',
          path: ['route', 'small', 'sorry'],
          vars: {},
          outcome: { type: 'hangup' },
        },
        acd: { queue: 'tiny', origin: 'tiny', phase: 'done', refused: 'queue-full' },
      }),
      new Date(at('00:10.000')),
      'hangup',
    );
    t.match(r, {
      queue: 'tiny',
      originQueue: 'tiny',
      hangupSide: 'system',
      endReason: 'queue-full',
      waitMs: null,
      answered: false,
      abandoned: false,
    });
    t.match(r.events.at(-1), { type: 'ended', reason: 'queue-full' });
  },
);
