// An offer for a call the router matched though it is not waiting (src/acd/offers.ts): a call that
// chose a callback keeps its queue entry; any other (talking already: its leave was lost in a Redis
// failover, or it timed out) has its entry dropped, or each match would return it again and the
// callers behind it would never be offered. Against fakes of the ACD's wiring: what was asked.
import { pino } from 'pino';
import t from 'tap';

import type { AcdCallState } from '../../src/acd/call-state.js';
import { Offers } from '../../src/acd/offers.js';
import type { AriClient } from '../../src/asterisk/ari.js';
import { Call } from '../../src/calls/call.js';

function lab(phase: AcdCallState['phase']) {
  const asked: string[] = [];
  const acd = {
    deps: {
      router: {
        returnCall: async (callId: string, o: { ifQueued?: boolean }) => {
          asked.push(`router.returnCall ${callId} ifQueued=${o.ifQueued}`);
          return 'special';
        },
      },
      waiting: { leave: async (callId: string, queue: string) => void asked.push(`waiting.leave ${callId} ${queue}`) },
    },
    releaseReservation: async (agentId: string, callId: string, why: string, o: { route?: boolean }) =>
      void asked.push(`release ${agentId} ${callId} ${why} route=${o.route}`),
  };
  const call = new Call(
    {
      callId: 'c1',
      channelId: 'c1',
      did: '12345',
      caller: '13800138000',
      startedAt: new Date().toISOString(),
      asteriskStartup: '',
      flow: {
        acd: { queue: 'special', origin: 'special', phase, priority: 0, enqueuedAt: Date.now(), legCount: 1 },
      },
    },
    {} as AriClient,
    { save: async () => undefined },
    pino({ level: 'silent' }),
    () => undefined,
  );
  const offers = new Offers(acd as unknown as ConstructorParameters<typeof Offers>[0]);
  return { asked, call, offers };
}

const match = { callId: 'c1', agentId: '1001', queue: 'special', score: 1 };

t.test(
  'a call already talking but still queued (a lost leave) loses its queue entry; the agent is freed',
  async (t) => {
    const { asked, call, offers } = lab('connected');
    await offers.offer(call, match as never);
    t.same(asked, [
      'router.returnCall c1 ifQueued=true',
      'waiting.leave c1 special',
      'release 1001 c1 caller-left route=true',
    ]);
  },
);

t.test('a call that chose a callback keeps its place; the agent is freed without routing at once', async (t) => {
  const { asked, call, offers } = lab('callback-requested');
  await offers.offer(call, match as never);
  t.same(asked, ['router.returnCall c1 ifQueued=true', 'release 1001 c1 caller-left route=false']);
});
