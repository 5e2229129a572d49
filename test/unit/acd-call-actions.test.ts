// The agent call actions against a fake ACD core (core.ts's AcdCore, the narrow interface they
// depend on) and an in-memory call: hold and resume, mute, the refusals, and the legs a
// citizen's hang-up takes with it; and the ACD's typed slot on a call (call-state.ts). The
// ARI fake only records what was asked: call behaviour is proved against Asterisk in
// test/integration (agent-call, transfer); these check the state changes, fast.
import { pino } from 'pino';
import t from 'tap';

import { AgentCallActions } from '../../src/acd/call-actions.js';
import { type AcdCallState, acdState, holdSoFar, saveAcd } from '../../src/acd/call-state.js';
import type { AcdCore, AcdDeps } from '../../src/acd/core.js';
import type { QueueDefinition } from '../../src/acd/queue-config.js';
import type { ScreenPop } from '../../src/acd/screen-pop.js';
import type { AriClient } from '../../src/asterisk/ari.js';
import { Call, type CallRecordState } from '../../src/calls/call.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LabOptions {
  acd?: Partial<AcdCallState>;
  agent?: Record<string, string>;
}

/** One connected call (citizen c1, agent 1001 on leg c1-a1, talk bridge talk-c1) and the fakes around it. */
function lab(options: LabOptions = {}) {
  const asked: string[] = [];
  const record =
    (op: string) =>
    async (...args: unknown[]): Promise<void> =>
      void asked.push([op, ...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))].join(' '));
  const ari = {
    bridges: { add: record('bridges.add'), removeIfPresent: record('bridges.removeIfPresent') },
    channels: {
      startMusic: record('channels.startMusic'),
      stopMusicIfPresent: record('channels.stopMusicIfPresent'),
      mute: record('channels.mute'),
      unmute: record('channels.unmute'),
    },
    playbacks: { stopIfPresent: record('playbacks.stopIfPresent') },
    hangupChannel: record('hangupChannel'),
  };
  const acd: AcdCallState = {
    queue: 'enterprise',
    origin: 'enterprise',
    phase: 'connected',
    priority: 0,
    enqueuedAt: Date.now() - 30_000,
    legCount: 1,
    agentId: '1001',
    agentLeg: 'c1-a1',
    bridgeId: 'talk-c1',
    answeredAt: Date.now() - 10_000,
    ...options.acd,
  };
  const state: CallRecordState = {
    callId: 'c1',
    channelId: 'c1',
    did: '12345',
    caller: '13800138000',
    startedAt: new Date().toISOString(),
    asteriskStartup: '',
    flow: { acd },
  };
  const saved: CallRecordState[] = [];
  const call = new Call(
    state,
    ari as unknown as AriClient,
    { save: async (s) => void saved.push(structuredClone(s)) },
    pino({ level: 'silent' }),
    () => undefined,
  );
  const notified: unknown[][] = [];
  const notifier = new Proxy(
    {},
    {
      get:
        (_target, name) =>
        (...args: unknown[]) =>
          void notified.push([String(name), ...args]),
    },
  );
  const agentStates: unknown[][] = [];
  const deps = {
    router: {
      agent: async () => options.agent ?? { state: 'on-call', call: 'c1' },
      setAgentState: async (...args: unknown[]) => {
        agentStates.push(args.slice(0, 2));
        return { changed: true, previous: 'reserved' };
      },
    },
    notifier,
    roster: () => ({ agents: new Map(), ringNoAnswer: { state: 'not-ready', reason: 'no-answer' } }),
    ari,
  } as unknown as AcdDeps;
  let woken = 0;
  const core: AcdCore = {
    deps,
    calls: {
      get: (id) => (id === 'c1' ? call : undefined),
      within: (_id, task) => task(call),
      attachLeg: async () => undefined,
      detachLeg: async () => undefined,
    },
    queue: (id) => ({ id, musicClass: 'gentle' }) as QueueDefinition,
    wake: async () => void woken++,
    cannotTake: async () => undefined,
    enqueue: async () => undefined,
    wrapUp: async () => undefined,
    popFor: () => ({}) as ScreenPop,
  };
  return { actions: new AgentCallActions(core), call, asked, saved, notified, agentStates, woken: () => woken };
}

t.test('hold sends the citizen to the queue music and resume brings them back, the hold counted once', async (t) => {
  const { actions, call, asked, saved, notified } = lab();
  t.same(await actions.hold('1001'), { callId: 'c1', held: true });
  t.same(asked, ['bridges.removeIfPresent talk-c1 c1', 'channels.startMusic c1 gentle'], 'out of the talk, to music');
  t.equal(acdState(call)?.held, true);
  t.ok(
    saved.some((s) => s.flow.acd?.held === true),
    'the hold is saved with the call',
  );
  t.same(await actions.hold('1001'), { callId: 'c1', held: true }, 'a second hold changes nothing');
  t.equal(asked.length, 2, 'and asks nothing of Asterisk');
  await sleep(30);
  t.same(await actions.resume('1001'), { callId: 'c1', held: false });
  t.same(asked.slice(2), ['channels.stopMusicIfPresent c1', 'bridges.add talk-c1 c1'], 'back in the talk bridge');
  const after = acdState(call)!;
  t.equal(after.held, false);
  t.equal(after.heldSince, undefined);
  t.ok(after.holdMs! >= 25 && after.holdMs! < 5000, `the hold time is counted (${after.holdMs} ms)`);
  t.same(
    notified.map((n) => [n[0], n[3]]),
    [
      ['agentCall', 'held'],
      ['agentCall', 'talking'],
    ],
    'the agent is told of each change',
  );
  t.same(await actions.resume('1001'), { callId: 'c1', held: false }, 'a second resume changes nothing');
  t.equal(acdState(call)!.holdMs, after.holdMs, 'and adds no hold time');
});

t.test('an agent who is not on a call is refused, and nothing is asked of Asterisk', async (t) => {
  const { actions, asked } = lab({ agent: { state: 'ready' } });
  await t.rejects(actions.hold('1001'), { code: 'REXIAN_AGENT_STATE' });
  await t.rejects(actions.mute('1001', true), { code: 'REXIAN_AGENT_STATE' });
  t.same(asked, []);
});

t.test('an agent who is on another call than the one connected to them is refused', async (t) => {
  const { actions, asked } = lab({ acd: { agentId: '1002' } });
  await t.rejects(actions.hold('1001'), { code: 'REXIAN_AGENT_STATE' });
  t.same(asked, []);
});

t.test('hold is refused while a consultation is under way, naming the consulted party', async (t) => {
  const consult = {
    leg: 'c1-c2',
    mode: 'attended' as const,
    kind: 'number' as const,
    target: '02367720001',
    label: '02367720001',
    answered: false,
    conference: false,
    startedAt: Date.now(),
    wasHeld: false,
    fromAgent: '1001',
  };
  const { actions, asked } = lab({ acd: { consult, held: true, heldSince: Date.now() } });
  await t.rejects(actions.hold('1001'), { code: 'REXIAN_CALL_STATE', message: /02367720001/ });
  t.same(asked, []);
});

t.test("the agent's mute stops what the agent says reaching the call, once", async (t) => {
  const { actions, call, asked, notified } = lab();
  t.same(await actions.mute('1001', true), { callId: 'c1', muted: true });
  t.same(await actions.mute('1001', true), { callId: 'c1', muted: true });
  t.same(asked, ['channels.mute c1-a1 in'], 'only the direction from the agent, only once');
  t.equal(acdState(call)?.muted, true);
  await actions.mute('1001', false);
  t.same(asked.slice(1), ['channels.unmute c1-a1 in']);
  t.same(
    notified.map((n) => n[3]),
    ['muted', 'talking'],
  );
});

t.test(
  'a citizen who hangs up takes the emergency and consultation legs along, and frees the consulted agent',
  async (t) => {
    const consult = {
      leg: 'c1-c3',
      mode: 'attended' as const,
      kind: 'agent' as const,
      target: '1002',
      label: '赵敏 (1002)',
      answered: false,
      conference: false,
      startedAt: Date.now(),
      wasHeld: false,
      fromAgent: '1001',
    };
    const { actions, call, asked, agentStates, woken } = lab({ acd: { emergencyLeg: 'c1-e2', consult } });
    await actions.onCallEnded(acdState(call)!);
    t.same(asked, ['hangupChannel c1-e2', 'hangupChannel c1-c3']);
    t.same(agentStates, [['1002', 'not-ready']], 'the agent who was ringing follows the ring-no-answer rule');
    t.equal(woken(), 1, 'and the controllers route again');
  },
);

t.test("the ACD's slot on a call is typed and saved with the call on every change", async (t) => {
  const { call, saved } = lab();
  const next = await saveAcd(call, { muted: true, transfers: 1 });
  t.equal(next.transfers, 1);
  t.equal(next.queue, 'enterprise', 'a patch keeps what it does not name');
  t.equal(call.flow.acd?.muted, true, 'call.flow.acd reads as AcdCallState, without a cast');
  t.equal(saved.at(-1)?.flow.acd?.transfers, 1, 'the call was saved with the change');
});

t.test('hold so far counts a hold still running up to the time asked, and only while held', async (t) => {
  t.equal(holdSoFar({ holdMs: 1000 }, 50_000), 1000);
  t.equal(holdSoFar({ held: true, heldSince: 10_000, holdMs: 1000 }, 12_500), 3500);
  t.equal(holdSoFar({ held: false, heldSince: 10_000, holdMs: 1000 }, 12_500), 1000, 'a hold that ended adds nothing');
  t.equal(holdSoFar({ held: true, heldSince: 20_000 }, 12_500), 0, 'never negative');
});
