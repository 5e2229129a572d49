// Offering a call to the agent the router reserved: we ring the agent with a channel id of
// our own (saved first, so a crash finds the ring), the agent's screen gets the pop; on answer
// both sides meet in the call's talk bridge, recorded if the queue records. A ring that goes
// unanswered returns the call to its exact place and rings the next agent at once.
import { agentEndpoint, agentLeg, talkBridge, talkRecording } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, acdState, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';
import type { QueueDefinition } from './queue-config.js';
import type { Match } from './router.js';
import { type ScreenPop, screenPop } from './screen-pop.js';

export class Offers {
  constructor(
    private readonly acd: Pick<
      AcdWiring,
      'deps' | 'calls' | 'queue' | 'route' | 'releaseReservation' | 'hold' | 'unhold'
    >,
  ) {}

  private get deps() {
    return this.acd.deps;
  }

  async offer(call: Call, match: Match): Promise<void> {
    const state = acdState(call);
    if (state?.phase === 'callback-requested') {
      // The caller chose a callback between the match and now: the agent is free again and the
      // entry keeps its place. Not routed at once: a callback entry is served once its caller
      // has hung up (the tick routes).
      const back = await this.deps.router.returnCall(call.id, { ifQueued: true });
      await this.acd.releaseReservation(match.agentId, call.id, 'caller-left', { route: !back });
      return;
    }
    if (state?.phase !== 'waiting') {
      // The call is not waiting (it timed out, or it is talking already) but the router matched
      // it: its queue entry is a ghost (a leave lost in a Redis failover, say). Drop the entry,
      // or every match would return it again and starve the callers behind it.
      await this.deps.router.returnCall(call.id, { ifQueued: true });
      await this.deps.waiting.leave(call.id, match.queue);
      if (state?.phase !== 'done' && state?.phase !== undefined)
        call.log.warn(
          { queue: match.queue, phase: state.phase, agentId: match.agentId },
          'a call that is not waiting was still queued: its queue entry is dropped',
        );
      await this.acd.releaseReservation(match.agentId, call.id, 'caller-left', { route: true });
      return;
    }
    const q = this.acd.queue(state.queue);
    const agent = this.deps.roster().agents.get(match.agentId);
    const legCount = state.legCount + 1;
    const leg = agentLeg(call.id, legCount);
    const now = Date.now();
    const pop = this.popFor(call, state, q);
    // Three changes to the one saved call state, each made in memory before its save is sent:
    // sent together on one connection, Redis keeps them in order and the last holds all three.
    // The agent's phone rings one round trip after the match instead of three.
    await Promise.all([
      saveAcd(call, {
        phase: 'offering',
        agentId: match.agentId,
        agentLeg: leg,
        legCount,
        offeredAt: now,
        ...(pop.callerMasked ? { callerMasked: true } : {}),
      }),
      this.acd.calls.attachLeg(call, leg, { role: 'agent', party: match.agentId }),
      call.note(
        'offered',
        {
          event: LogEvent.callOffered,
          queue: q.id,
          agentId: match.agentId,
          agentChannel: leg,
          waitMs: now - state.enqueuedAt,
        },
        'call offered to agent',
      ),
    ]);
    this.deps.notifier.agentOffer({
      agentId: match.agentId,
      callId: call.id,
      queue: q.id,
      tags: state.tags ?? [],
      callback: false,
      ...pop,
    });
    try {
      await this.deps.ari.originate({
        channelId: leg,
        endpoint: `PJSIP/${agentEndpoint(match.agentId)}`,
        // The phone's display follows the same policy as the screen.
        callerId: `"${call.state.did}${pop.callerMasked ? ' 保密' : ''}" <${pop.callerMasked ? call.state.did : call.state.caller || call.state.did}>`,
        timeout: q.ringSeconds,
        appArgs: `agent-leg,${call.id}`,
        variables: agent?.autoAnswer ? { 'PJSIP_HEADER(add,Call-Info)': '<sip:rexian>;answer-after=0' } : undefined,
      });
    } catch (err) {
      call.log.warn({ agentId: match.agentId, err: (err as Error).message }, 'could not ring the agent');
      await this.ringFailed(call, 'originate-failed');
    }
  }

  /**
   * The agent let it ring out, rejected it, or could not be reached: next agent, now. An agent
   * who answered and was gone before the bridge took them (`answered`) is not a ring without
   * answer: they are ready again, not set aside by the roster's ring-no-answer rule.
   */
  async ringFailed(call: Call, cause: string, options: { answered?: boolean } = {}): Promise<void> {
    const state = acdState(call)!;
    const { agentId, agentLeg } = state;
    if (agentLeg) {
      await this.acd.calls.detachLeg(call, agentLeg);
      await call.ari.hangupChannel(agentLeg);
    }
    const back = await this.deps.router.returnCall(call.id);
    if (!back) {
      await this.deps.waiting.enqueue(state.queue, call.id, state.priority, state.enqueuedAt);
    }
    await saveAcd(call, { phase: 'waiting', agentId: undefined, agentLeg: undefined });
    if (agentId) {
      const rule = options.answered ? { state: 'ready' as const, reason: '' } : this.deps.roster().ringNoAnswer;
      await this.deps.router.setAgentState(
        agentId,
        rule.state,
        rule.state === 'ready' ? '' : rule.reason,
        '',
        Date.now(),
        { expect: ['reserved'] },
      );
      this.deps.notifier.agentOfferWithdrawn(agentId, call.id, cause);
    }
    await call.note(
      'agent-no-answer',
      { event: LogEvent.agentNoAnswer, agentId, cause, queue: state.queue },
      'agent did not answer; the call keeps its place and goes to the next agent',
    );
    await this.acd.route();
  }

  /** The agent's screen-pop for this call, as the queue's policy and the caller's wishes allow. */
  popFor(call: Call, state: AcdCallState, q: QueueDefinition): ScreenPop {
    return screenPop({
      did: call.state.did,
      caller: call.state.caller,
      ivr: state.ivr,
      waitMs: Date.now() - state.enqueuedAt,
      policy: q.callerNumber,
    });
  }

  /** The agent answered: citizen and agent meet in the call's talk bridge. */
  async connect(call: Call): Promise<void> {
    const state = acdState(call)!;
    const now = Date.now();
    const bridgeId = talkBridge(call.id);
    await call.ari.ensureBridge(bridgeId, 'mixing', `talk ${call.id}`);
    await this.acd.unhold(call, state.queue);
    try {
      await call.ari.bridges.add(bridgeId, [call.channelId, state.agentLeg!]);
    } catch (err) {
      // A phone that answers and hangs up at once (a very short call, a slip of the hand) is
      // gone before the bridge takes it. Left to the agent leg's StasisEnd, that would count as
      // a ring without answer and set the agent not ready for good; the caller, taken off hold
      // above, would wait in silence. Instead: the caller back on hold at their place, the
      // agent ready, the next agent rung. A caller who is gone is the call's end (rethrown).
      const agentGone = await call.ari.channels.get(state.agentLeg!).then(
        () => false,
        () => true,
      );
      if (!agentGone) throw err;
      await this.acd.hold(call, this.acd.queue(state.queue));
      await this.ringFailed(call, 'agent-left-at-answer', { answered: true });
      return;
    }
    await saveAcd(call, {
      phase: 'connected',
      answeredAt: now,
      bridgeId,
      firstAnsweredAt: state.firstAnsweredAt ?? now,
      agents: [...(state.agents ?? []), state.agentId!],
    });
    await this.deps.router.setAgentState(state.agentId!, 'on-call', '', call.id, now, { expect: ['reserved'] });
    await this.deps.router.clearOffer(call.id);
    await this.deps.waiting.leave(call.id, state.queue);
    const waitMs = now - state.enqueuedAt;
    await this.deps.stats.answered(this.acd.queue(state.origin), waitMs);
    await call.note(
      'answered',
      { event: LogEvent.callConnectedToAgent, agentId: state.agentId, queue: state.queue, waitMs, bridgeId },
      'call connected to agent',
    );
    await this.record(call, bridgeId, state.agentId!, state.queue);
  }

  /** Quality-inspection recording of the talk bridge, if the queue records; one per call. */
  async record(call: Call, bridgeId: string, agentId: string, queueId: string): Promise<void> {
    const state = acdState(call)!;
    if (state.recording || !this.acd.queue(queueId).record) return;
    const name = talkRecording(call.id);
    if (
      await this.deps.recordings.recordBridge(bridgeId, {
        name,
        callId: call.id,
        agentId,
        queue: queueId,
        did: call.state.did,
        kind: 'talk',
      })
    ) {
      await saveAcd(call, { recording: name });
    }
  }
}
