// The end of a call, from either side. The agent hung up: wrap-up, and the citizen goes on to
// the after-call flow (the survey) or is hung up; during a consultation the consulted party
// keeps the citizen. The citizen hung up (or the call was found gone): an abandon while queued
// or offered (counted, and called back unless it was a short one), wrap-up after a talk.
// Each clean-up step runs whatever the one before did (steps.ts).
import type { Call } from '../calls/call.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, acdState, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';
import { CALLBACK_NUMBER } from './queue-callbacks.js';
import { type CleanUpStep, runSteps } from './steps.js';

type CallEndNeeds = Pick<
  AcdWiring,
  | 'deps'
  | 'queue'
  | 'releaseReservation'
  | 'releaseUnoffered'
  | 'wrapUp'
  | 'endCallback'
  | 'endExtraLegs'
  | 'agentLeftDuringConsult'
  | 'afterCall'
>;

export class CallEnd {
  constructor(private readonly acd: CallEndNeeds) {}

  private get deps() {
    return this.acd.deps;
  }

  /** The agent's leg of a connected call ended (they hung up, or a supervisor took over). */
  async agentHungUp(call: Call): Promise<void> {
    const state = acdState(call)!;
    if (await this.acd.agentLeftDuringConsult(call, state)) return;
    if (state.takenOver) {
      await saveAcd(call, { phase: 'taken-over' });
      await this.acd.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
      await call.note(
        'taken-over',
        { event: LogEvent.agentDroppedToSupervisor, agentId: state.agentId },
        'agent dropped; the supervisor has the call',
      );
      return;
    }
    await saveAcd(call, { phase: 'done', hangupSide: 'agent' });
    await this.acd.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
    if (state.emergencyLeg) {
      // A warm hand-off: the citizen stays with the emergency line.
      call.log.warn(
        { event: LogEvent.agentLeftEmergency, agentId: state.agentId, number: state.emergencyNumber },
        'agent left; the citizen stays with the emergency line',
      );
      return;
    }
    if (state.bridgeId) await call.ari.bridges.destroyIfPresent(state.bridgeId);
    const flowId = this.acd.queue(state.origin).afterCallFlow;
    if (
      flowId &&
      (await this.acd.afterCall(call, flowId).catch((err: unknown) => {
        call.log.error({ err }, 'after-call flow failed');
        return false;
      }))
    ) {
      await call.note(
        'agent-hung-up',
        { agentId: state.agentId, flowId },
        'agent hung up; the citizen goes on to the after-call flow',
      );
      return;
    }
    await call.note(
      'agent-hung-up',
      { event: LogEvent.agentHungUp, agentId: state.agentId },
      'agent hung up; ending the call',
    );
    await call.hangup();
  }

  /**
   * The call is over (the citizen hung up, or it was found gone). Each clean-up step runs
   * whatever the one before did: an agent leg that will not hang up must not leave its agent
   * reserved, nor a figure that cannot be counted keep the caller in the waiting list.
   */
  async onEnd(call: Call): Promise<void> {
    const state = acdState(call);
    if (!state) return;
    try {
      await this.endCall(call, state);
    } finally {
      // An empty talk bridge would stay in Asterisk for ever.
      if (state.bridgeId) await this.deps.ari.bridges.destroyIfPresent(state.bridgeId);
    }
  }

  private async endCall(call: Call, state: AcdCallState): Promise<void> {
    if (call.state.kind === 'callback') return this.acd.endCallback(call, state);
    const now = Date.now();
    // A call that ended while no controller ran ended when Asterisk says (records/fallback.ts):
    // wait and talk end there.
    const endedAt =
      Date.parse(String((call.state.flow.asteriskEnd as { endedAt?: string } | undefined)?.endedAt)) || now;
    const hangupLeg: CleanUpStep[] = [
      [
        'hang up the agent leg',
        async () => {
          if (state.agentLeg) await this.deps.ari.hangupChannel(state.agentLeg);
        },
      ],
      ['end consultations and emergency legs', () => this.acd.endExtraLegs(state)],
    ];
    switch (state.phase) {
      case 'waiting':
      case 'offering':
        return this.abandoned(call, state, endedAt, state.phase === 'offering' ? hangupLeg : []);
      case 'done':
      case 'transferring':
      case 'transferred':
        // A caller who left the queue (timed out) just as a match was made for them.
        await runSteps(call, [
          ['free an agent reserved but not yet offered', () => this.acd.releaseUnoffered(call.id)],
        ]);
        await this.acd.endExtraLegs(state);
        return;
      case 'callback-requested':
        // The caller hung up after choosing a callback, as asked, just as a match was made for their entry.
        await runSteps(call, [
          ['free an agent reserved but not yet offered', () => this.acd.releaseUnoffered(call.id)],
        ]);
        return;
      case 'connected':
        await runSteps(call, [
          ...hangupLeg,
          [
            'note the hang-up',
            () => call.note('citizen-hung-up', { agentId: state.agentId }, 'citizen hung up; agent goes to wrap-up'),
          ],
          [
            'wrap-up',
            () => this.acd.wrapUp(call, state.agentId!, state.origin, endedAt - (state.answeredAt ?? endedAt)),
          ],
        ]);
        return;
      default:
    }
  }

  /** The citizen hung up while queued or ringing an agent: an abandon. */
  private async abandoned(call: Call, state: AcdCallState, endedAt: number, hangupLeg: CleanUpStep[]): Promise<void> {
    const waitMs = endedAt - state.enqueuedAt;
    let short = false;
    await runSteps(call, [
      ...(state.phase === 'offering'
        ? ([
            ...hangupLeg,
            ['withdraw the offer', () => this.deps.router.clearOffer(call.id)],
            ['free the agent', () => this.acd.releaseReservation(state.agentId!, call.id, 'caller-hung-up')],
          ] satisfies CleanUpStep[])
        : []),
      ['leave the queue', () => this.deps.waiting.leave(call.id, state.queue)],
      // The router may have reserved an agent for this caller whose offer has not run yet (the
      // hang-up was queued first, so the offer task is dropped): free that agent. After the
      // leave, so no match can reserve anyone for this caller any more.
      ['free an agent reserved but not yet offered', () => this.acd.releaseUnoffered(call.id)],
      [
        'count the abandon',
        async () => {
          short = await this.deps.stats.abandoned(this.acd.queue(state.origin), waitMs);
        },
      ],
      ['mark the abandon', () => saveAcd(call, { abandoned: true, shortAbandon: short })],
      // A caller who gave up is called back (回访), unless they hung up at once.
      [
        'callback task',
        async () => {
          if (!short && CALLBACK_NUMBER.test(call.state.caller)) {
            await this.deps.callbacks.add({
              callId: call.id,
              did: call.state.did,
              caller: call.state.caller,
              reason: 'abandoned',
            });
          }
        },
      ],
      [
        'note the abandon',
        () =>
          call.note(
            'abandoned',
            { event: LogEvent.callAbandoned, queue: state.queue, waitMs, short },
            short ? 'caller hung up while queued (short abandon)' : 'caller hung up while queued (abandon)',
          ),
      ],
    ]);
  }
}
