// The agent's current call as the desk redraws it after a reconnect (src/acd/agent-call-view.ts):
// ringing or talking from the agent's state, held/muted/recording from the ACD's slot, the
// consultation the agent started, and a consulted agent's view of the same call.
import t from 'tap';

import { agentCallView } from '../../src/acd/agent-call-view.js';
import type { ScreenPop } from '../../src/acd/screen-pop.js';
import type { AcdService } from '../../src/acd/service.js';

type Slot = NonNullable<ReturnType<AcdService['state']>>;

const pop: ScreenPop = {
  line: '12345 政务服务便民热线',
  did: '12345',
  caller: '138****0001',
  callerMasked: true,
  privacy: true,
  ivrPath: ['welcome', 'menu'],
  digits: { menu: '1' },
  waitSeconds: 99, // popFor's wait until now: the view shows the wait until the offer
};
const slot = (patch: Partial<Slot>): Slot => ({
  queue: 'general',
  origin: 'general',
  phase: 'offering',
  priority: 0,
  enqueuedAt: 10_000,
  legCount: 1,
  agentId: '1001',
  agentLeg: 'c1-a1',
  offeredAt: 14_500,
  tags: ['housing'],
  ...patch,
});

t.test('an offered call rings, with the pop as offered and the wait until the offer', async (t) => {
  const view = agentCallView({ agentId: '1001', state: 'reserved', callId: 'c1' }, { id: 'c1' }, slot({}), pop);
  t.same(view, {
    callId: 'c1',
    queue: 'general',
    phase: 'ringing',
    held: false,
    muted: false,
    recordingPaused: false,
    offeredAt: new Date(14_500).toISOString(),
    pop: { ...pop, waitSeconds: 4.5, tags: ['housing'], callback: false },
  });
});

t.test('a connected call is talking, held, muted, recording paused, with the consultation under way', async (t) => {
  const view = agentCallView(
    { agentId: '1001', state: 'on-call', callId: 'c1' },
    { id: 'c1', kind: 'callback' },
    slot({
      phase: 'connected',
      answeredAt: 16_000,
      held: true,
      muted: true,
      recordingPaused: true,
      consult: {
        leg: 'c1-c2',
        mode: 'attended',
        kind: 'window',
        target: 'bdc',
        label: '市政务服务中心 不动产登记窗口',
        answered: true,
        conference: false,
        startedAt: 20_000,
        wasHeld: false,
        fromAgent: '1001',
      },
    }),
    pop,
  );
  t.match(view, {
    phase: 'talking',
    held: true,
    muted: true,
    recordingPaused: true,
    answeredAt: new Date(16_000).toISOString(),
    consult: { state: 'talking', with: '市政务服务中心 不动产登记窗口', mode: 'attended' },
    pop: { callback: true },
  });
});

t.test('the consulted agent sees the call ringing, then talking, transferred by the consulting agent', async (t) => {
  const consult = {
    leg: 'c1-c2',
    mode: 'attended' as const,
    kind: 'agent' as const,
    target: '2001',
    label: '赵敏 (2001)',
    answered: false,
    conference: false,
    startedAt: 30_000,
    wasHeld: false,
    fromAgent: '1001',
  };
  const ringing = agentCallView(
    { agentId: '2001', state: 'reserved', callId: 'c1' },
    { id: 'c1' },
    slot({ phase: 'connected', held: true, consult }),
    pop,
  );
  t.match(ringing, {
    phase: 'ringing',
    held: false,
    offeredAt: new Date(30_000).toISOString(),
    pop: { transferredBy: '1001', waitSeconds: 20 },
  });
  t.notOk(ringing && 'consult' in ringing, 'the consultation is the consulting agent’s to show');
  const talking = agentCallView(
    { agentId: '2001', state: 'on-call', callId: 'c1' },
    { id: 'c1' },
    slot({ phase: 'connected', consult: { ...consult, answered: true } }),
    pop,
  );
  t.match(talking, { phase: 'talking' });
});

t.test('reserved by the router before the offer is saved: ringing since the reservation', async (t) => {
  const view = agentCallView(
    { agentId: '1001', state: 'reserved', callId: 'c1', since: 12_000 },
    { id: 'c1' },
    slot({ phase: 'waiting', agentId: undefined, offeredAt: undefined }),
    pop,
  );
  t.match(view, { phase: 'ringing', offeredAt: new Date(12_000).toISOString(), pop: { waitSeconds: 2 } });
});

t.test('an agent the call no longer names, on a call by their hash, has no part in it', async (t) => {
  t.equal(
    agentCallView({ agentId: '1001', state: 'on-call', callId: 'c1' }, { id: 'c1' }, slot({ agentId: '1002' }), pop),
    undefined,
  );
});

t.test('an emergency hand-off shows while its line is dialled and once it joined, not after it left', async (t) => {
  const agent = { agentId: '1001', state: 'on-call' as const, callId: 'c1' };
  const talking = { phase: 'connected' as const, answeredAt: 16_000 };
  const dialling = agentCallView(
    agent,
    { id: 'c1' },
    slot({ ...talking, emergencyLeg: 'c1-e2', emergencyNumber: '120' }),
    pop,
  );
  t.same(dialling?.emergency, { number: '120', state: 'dialling' });
  const joined = agentCallView(
    agent,
    { id: 'c1' },
    slot({ ...talking, emergencyLeg: 'c1-e2', emergencyNumber: '120', emergencyJoined: true }),
    pop,
  );
  t.same(joined?.emergency, { number: '120', state: 'joined' });
  // The line hung up: the number stays on the slot for the record, the hand-off is over.
  const left = agentCallView(agent, { id: 'c1' }, slot({ ...talking, emergencyNumber: '120' }), pop);
  t.equal(left?.emergency, undefined);
});
