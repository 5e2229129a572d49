// Transfers and consultations. A blind transfer releases the agent at once; to a queue the
// citizen waits there ahead of new callers, to an agent, a number or a window the citizen
// hears music until the other side answers. A consultation rings the other side on a leg of
// the call while the citizen hears music; it becomes an attended transfer (the agent leaves)
// or a three-way call (一号答), or is cancelled. One talk bridge carries the conversation
// whoever joins or leaves it. A consultation that fails brings the citizen back to the agent,
// who is told why; a blind transfer that fails puts the citizen back in their queue ahead of
// new callers: nobody is dropped because a transfer failed.
import type { AriEvent } from '../asterisk/ari.js';
import { consultLeg, ringbackPlayback } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, type Consult, saveAcd } from './call-state.js';
import {
  type ActionResult,
  busy,
  citizenToMusic,
  citizenToTalk,
  noConsult,
  offHold,
  onAgentsCall,
  releaseAgent,
  settleHold,
} from './call-talk.js';
import type { AcdCore } from './core.js';
import { type ResolvedTarget, resolveTarget, type TransferTarget } from './transfer-targets.js';

export class Consults {
  constructor(private readonly acd: AcdCore) {}

  private get deps() {
    return this.acd.deps;
  }

  /**
   * Blind transfer: the agent is released at once. To a queue, the citizen waits there ahead
   * of new callers of the same priority; to an agent, a number or a window, the citizen hears
   * music until the other side answers.
   */
  transfer(agentId: string, to: TransferTarget): Promise<ActionResult> {
    if ('queue' in to) return this.transferToQueue(agentId, to.queue);
    const target = resolveTarget(this.deps, to); // a bad number or an unknown window fails before anything moves
    return onAgentsCall(this.acd, agentId, 'transfer', async (call, state) => {
      noConsult(state, call, 'transfer');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}; it cannot be transferred`, {
          callId: call.id,
        });
      const consult = await this.placeConsult(call, state, target, 'blind');
      await releaseAgent(this.acd, call, state, 'blind transfer');
      await saveAcd(call, {
        phase: 'transferring',
        agentId: undefined,
        agentLeg: undefined,
        transfers: (state.transfers ?? 0) + 1,
      });
      await call.note(
        'blind-transfer',
        { agentId, to: consult.label, kind: consult.kind },
        'blind transfer: the citizen waits with music for the other side',
      );
      return { transferred: true, to: consult.label, channel: consult.leg };
    });
  }

  private transferToQueue(agentId: string, queueId: string): Promise<ActionResult> {
    const q = this.acd.queue(queueId);
    return onAgentsCall(this.acd, agentId, 'transfer', async (call, state) => {
      noConsult(state, call, 'transfer');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}; it cannot be transferred`, {
          callId: call.id,
        });
      const why = await this.acd.cannotTake(q);
      if (why) throw busy(`cannot transfer to queue "${q.id}": ${why}`, { queue: q.id });
      await releaseAgent(this.acd, call, state, 'transfer to a queue');
      await saveAcd(call, { phase: 'done', transfers: (state.transfers ?? 0) + 1 });
      if (state.held) await call.ari.channels.stopMusicIfPresent(call.channelId);
      await call.note('transfer-to-queue', { agentId, queue: q.id }, 'transferred to a queue');
      await this.acd.enqueue(call, {
        queue: q.id,
        skills: state.tags ?? [],
        priority: Math.min(9, Math.max(state.priority, q.priority) + 1),
        context: { transferredBy: agentId },
      });
      return { transferred: true, to: q.name, queue: q.id };
    });
  }

  /** Consultation: the citizen hears music while the agent talks to the other side. */
  consult(agentId: string, to: Exclude<TransferTarget, { queue: string }>): Promise<ActionResult> {
    const target = resolveTarget(this.deps, to);
    return onAgentsCall(this.acd, agentId, 'consult', async (call, state) => {
      noConsult(state, call, 'consult again');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}`, { callId: call.id });
      const consult = await this.placeConsult(call, state, target, 'attended');
      return { consulting: consult.label, kind: consult.kind, channel: consult.leg };
    });
  }

  /** Attended transfer: the agent leaves, the citizen talks to the consulted party. */
  completeTransfer(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'complete a transfer', async (call, state) => {
      const consult = this.answeredConsult(call, state);
      await this.finishTransfer(call, state, false);
      return { transferred: true, to: consult.label };
    });
  }

  /** Three-way: the citizen joins the agent and the consulted party in the talk bridge. */
  conference(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'join all three', async (call, state) => {
      const consult = this.answeredConsult(call, state);
      if (consult.conference) return { conference: true, with: consult.label };
      await citizenToTalk(call, state);
      await saveAcd(call, { consult: { ...consult, conference: true }, ...offHold(state) });
      await call.note(
        'three-way',
        { agentId, with: consult.label },
        'three-way: citizen, agent and the consulted party together',
      );
      this.deps.notifier.agentConsult(agentId, call.id, 'conference', consult.label);
      return { conference: true, with: consult.label };
    });
  }

  /** Ends the consultation: the other side is hung up, the citizen is back with the agent. */
  cancelConsult(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'cancel a consultation', async (call, state) => {
      if (!state.consult) throw busy(`call ${call.id} has no consultation under way`, { callId: call.id });
      const label = state.consult.label;
      await this.dropConsult(call, state, 'cancelled');
      await this.backToAgent(call, state);
      await call.note(
        'consult-cancelled',
        { agentId, with: label },
        'consultation cancelled; the citizen is back with the agent',
      );
      return { cancelled: true, with: label };
    });
  }

  private answeredConsult(call: Call, state: AcdCallState): Consult {
    if (!state.consult) throw busy(`call ${call.id} has no consultation under way`, { callId: call.id });
    if (!state.consult.answered)
      throw busy(`${state.consult.label} has not answered yet`, { callId: call.id, consult: state.consult.label });
    return state.consult;
  }

  /** Puts the citizen to music and rings the other side on a leg of the call. */
  private async placeConsult(
    call: Call,
    state: AcdCallState,
    target: ResolvedTarget,
    mode: Consult['mode'],
  ): Promise<Consult> {
    const now = Date.now();
    if (target.kind === 'agent') {
      if (target.target === state.agentId)
        throw busy('an agent cannot transfer a call to themselves', { agentId: target.target });
      const { changed, previous } = await this.deps.router.setAgentState(target.target, 'reserved', '', call.id, now, {
        expect: ['ready'],
      });
      if (!changed)
        throw busy(`agent ${target.label} is not ready (${previous || 'logged out'})`, {
          agentId: target.target,
          state: previous,
        });
    }
    const legCount = state.legCount + 1;
    const consult: Consult = {
      leg: consultLeg(call.id, legCount),
      mode,
      kind: target.kind,
      target: target.target,
      label: target.label,
      answered: false,
      conference: false,
      startedAt: now,
      wasHeld: Boolean(state.held),
      fromAgent: state.agentId!,
    };
    if (!state.held) await citizenToMusic(this.acd, call, state);
    await saveAcd(call, { legCount, consult, held: true, heldSince: state.held ? state.heldSince : now });
    await this.acd.calls.attachLeg(call, consult.leg, { role: 'consult', party: `${target.kind}:${target.target}` });
    if (target.kind === 'agent') {
      const q = this.acd.queue(state.origin);
      this.deps.notifier.agentOffer({
        agentId: target.target,
        callId: call.id,
        queue: q.id,
        transferredBy: state.agentId,
        ...this.acd.popFor(call, state, q),
      });
    }
    await call.note(
      mode === 'attended' ? 'consult' : 'transfer',
      { agentId: state.agentId, to: consult.label, kind: consult.kind, mode, consultChannel: consult.leg },
      mode === 'attended' ? 'consulting' : 'transferring',
    );
    this.deps.notifier.agentConsult(state.agentId!, call.id, 'ringing', consult.label, mode);
    // The agent hears ringback while the other side rings (they are alone in the bridge).
    if (mode === 'attended') {
      await call.ari.channels
        .play(state.agentLeg!, ringbackPlayback(consult.leg), 'tone:ring;tonezone=cn')
        .catch((err: unknown) => call.log.debug({ err: (err as Error).message }, 'no ringback for the agent'));
    }
    try {
      await this.deps.ari.originate({
        channelId: consult.leg,
        endpoint: target.endpoint,
        callerId: target.callerId(call),
        timeout: target.kind === 'agent' ? this.acd.queue(state.origin).ringSeconds : 30,
        appArgs: `agent-leg,${call.id}`,
      });
    } catch (err) {
      await call.note(
        'consult-failed',
        { err: (err as Error).message, to: consult.label },
        'could not ring the other side',
        'warn',
      );
      await this.stopRingback(call, consult);
      await this.acd.calls.detachLeg(call, consult.leg);
      await this.releaseTarget(consult);
      if (!consult.wasHeld) await citizenToTalk(call, state);
      await saveAcd(call, {
        consult: undefined,
        held: consult.wasHeld,
        heldSince: consult.wasHeld ? state.heldSince : undefined,
      });
      throw new RexianError(
        'REXIAN_ASTERISK_FAILED',
        { callId: call.id, to: consult.label },
        `could not ring ${consult.label}: ${(err as Error).message}`,
      );
    }
    return consult;
  }

  /** The consulted agent is not taking the call after all: ready again (or as the ring-no-answer rule says). */
  async releaseTarget(consult: Consult): Promise<void> {
    if (consult.kind !== 'agent') return;
    const now = Date.now();
    if (consult.answered) {
      await this.deps.router.setAgentState(consult.target, 'ready', '', '', now, { expect: ['on-call'] });
    } else {
      const rule = this.deps.roster().ringNoAnswer;
      await this.deps.router.setAgentState(
        consult.target,
        rule.state,
        rule.state === 'ready' ? '' : rule.reason,
        '',
        now,
        { expect: ['reserved'] },
      );
    }
    await this.acd.wake();
  }

  private async stopRingback(call: Call, consult: Consult): Promise<void> {
    await call.ari.playbacks.stopIfPresent(ringbackPlayback(consult.leg));
  }

  /** Hangs up the consulted party's leg (no event of it comes back to the call). */
  async dropConsult(call: Call, state: AcdCallState, why: string): Promise<void> {
    const consult = state.consult!;
    await this.stopRingback(call, consult);
    await this.acd.calls.detachLeg(call, consult.leg);
    await call.ari.hangupChannel(consult.leg);
    await this.releaseTarget(consult);
    await saveAcd(call, { consult: undefined });
    await call.note('consult-ended', { with: consult.label, why }, 'consultation ended');
  }

  /** After a consultation: the citizen is with the agent again (or still on hold, if they were). */
  private async backToAgent(call: Call, state: AcdCallState): Promise<void> {
    const consult = state.consult!;
    if (consult.wasHeld) return;
    if (!consult.conference) await citizenToTalk(call, state);
    await saveAcd(call, offHold(state));
  }

  /**
   * The consulted party takes the citizen: the agent leaves (unless gone already), the
   * citizen joins the talk bridge. A consulted agent becomes the call's agent; a number or a
   * window stays with the citizen until either hangs up.
   */
  private async finishTransfer(call: Call, state: AcdCallState, agentGone: boolean): Promise<void> {
    const consult = state.consult!;
    const now = Date.now();
    if (!agentGone) await releaseAgent(this.acd, call, state, 'transfer completed');
    if (!consult.conference) await citizenToTalk(call, state);
    const common = { ...offHold(state), transfers: (state.transfers ?? 0) + (consult.mode === 'blind' ? 0 : 1) };
    if (consult.kind === 'agent') {
      await this.deps.router.setAgentState(consult.target, 'on-call', '', call.id, now, {
        expect: ['reserved', 'on-call'],
      });
      await saveAcd(call, {
        ...common,
        phase: 'connected',
        agentId: consult.target,
        agentLeg: consult.leg,
        answeredAt: now,
        consult: undefined,
        muted: false,
        agents: [...(state.agents ?? []), consult.target],
      });
      this.deps.notifier.agentCall(consult.target, call.id, 'talking');
    } else {
      await saveAcd(call, {
        ...common,
        phase: 'transferred',
        agentId: undefined,
        agentLeg: undefined,
        consult: { ...consult, answered: true },
        ...(consult.kind === 'window' ? { windowId: consult.target } : {}),
      });
    }
    await call.note(
      'transferred',
      { event: LogEvent.callTransferred, from: consult.fromAgent, to: consult.label, kind: consult.kind },
      'call transferred',
    );
  }

  async onEvent(call: Call, state: AcdCallState, consult: Consult, event: AriEvent): Promise<void> {
    if (
      !consult.answered &&
      (event.type === 'StasisStart' || event.type === 'ChannelDestroyed' || event.type === 'StasisEnd')
    )
      await this.stopRingback(call, consult);
    if (event.type === 'StasisStart' && !consult.answered) {
      const answered = { ...consult, answered: true };
      if (state.phase === 'transferring') {
        await call.ari.bridges.add(state.bridgeId!, consult.leg);
        await this.finishTransfer(call, { ...state, consult: answered }, true);
        return;
      }
      if (consult.kind === 'agent')
        await this.deps.router.setAgentState(consult.target, 'on-call', '', call.id, Date.now(), {
          expect: ['reserved'],
        });
      await call.ari.bridges.add(state.bridgeId!, consult.leg);
      await saveAcd(call, {
        consult: answered,
        ...(consult.kind === 'window' ? { windowId: consult.target } : {}),
      });
      await call.note(
        'consult-answered',
        { event: LogEvent.consultAnswered, agentId: state.agentId, with: consult.label },
        'consulted party answered; talking with the agent',
      );
      this.deps.notifier.agentConsult(state.agentId!, call.id, 'talking', consult.label);
      return;
    }
    if (event.type !== 'ChannelDestroyed' && event.type !== 'StasisEnd') return;
    await this.acd.calls.detachLeg(call, consult.leg);
    const cause = String(event.cause_txt ?? (consult.answered ? 'hung up' : 'no answer'));
    if (state.phase === 'transferred') {
      await call.note('other-side-hung-up', { with: consult.label }, 'the other side hung up; ending the call');
      await saveAcd(call, { consult: undefined, phase: 'done', hangupSide: 'other' });
      await call.hangup();
      return;
    }
    await this.releaseTarget(consult);
    if (state.phase === 'transferring') {
      // The agent is gone: the citizen goes back to the queue, ahead of new callers.
      await call.note(
        'transfer-failed',
        { event: LogEvent.blindTransferFailed, to: consult.label, cause },
        'blind transfer failed; the citizen goes back to the queue',
        'warn',
      );
      this.deps.notifier.agentTransferFailed(consult.fromAgent, call.id, consult.label, cause);
      await call.ari.channels.stopMusicIfPresent(call.channelId);
      await saveAcd(call, { phase: 'done', consult: undefined, held: false });
      const q = this.acd.queue(state.origin);
      await this.acd.enqueue(call, {
        queue: q.id,
        skills: state.tags ?? [],
        priority: Math.min(9, Math.max(state.priority, q.priority) + 1),
        context: { transferFailed: consult.label },
      });
      return;
    }
    await this.backToAgent(call, state);
    await saveAcd(call, { consult: undefined });
    if (consult.answered) {
      await call.note(
        'consult-left',
        { with: consult.label },
        'the consulted party left; the citizen is with the agent',
      );
      this.deps.notifier.agentConsult(state.agentId!, call.id, 'ended', consult.label);
    } else {
      await call.note(
        'consult-failed',
        { event: LogEvent.consultFailed, with: consult.label, cause },
        'consultation failed; the citizen is back with the agent',
        'warn',
      );
      this.deps.notifier.agentConsultFailed(state.agentId!, call.id, consult.label, cause);
    }
  }

  /**
   * The agent hung up during a consultation: the consulted party keeps the citizen (answered:
   * a transfer, or the warm hand-off of a three-way), or will take them when it answers.
   * False when there is no consultation and the ACD's usual end of talk applies.
   */
  async agentLeftDuringConsult(call: Call, state: AcdCallState): Promise<boolean> {
    const consult = state.consult;
    if (!consult) return false;
    await this.acd.calls.detachLeg(call, state.agentLeg!);
    if (consult.answered) {
      await this.finishTransfer(call, state, true);
      await this.acd.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
      call.log.info(
        {
          event: consult.conference ? LogEvent.agentLeftThreeWay : LogEvent.consultTookCitizen,
          agentId: state.agentId,
          with: consult.label,
        },
        consult.conference
          ? 'agent left the three-way; the citizen stays with the other side'
          : 'agent hung up; the consulted party takes the citizen',
      );
      return true;
    }
    await settleHold(call);
    await saveAcd(call, {
      phase: 'transferring',
      agentId: undefined,
      agentLeg: undefined,
      consult: { ...consult, mode: 'blind' },
      transfers: (state.transfers ?? 0) + 1,
    });
    await this.acd.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
    await call.note(
      'agent-left-consult',
      { agentId: state.agentId, to: consult.label },
      'agent hung up while the other side rang; it becomes a blind transfer',
    );
    return true;
  }
}
