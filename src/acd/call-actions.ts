// What an agent does during a call: hold and resume, mute, hang up, the emergency hand-off,
// blind transfer (to a queue, an agent, a number or a service-centre window), and the
// consultation that becomes an attended transfer or a three-way call (一号答).
//
// One talk bridge carries the conversation from answer to end, whoever joins or leaves it,
// so its recording covers the whole call. A consulted party rings on a leg of the call's
// own; while it rings or talks to the agent, the citizen is out of the bridge hearing music.
// A consultation that fails (no answer, busy, the window hangs up) brings the citizen back
// to the agent, and the agent is told why. A blind transfer that fails puts the citizen back
// in their queue ahead of new callers: nobody is dropped because a transfer failed.
import type { AriEvent } from '../asterisk/ari.js';
import { agentEndpoint, consultLeg, emergencyLeg, emergencyRecording, ringbackPlayback } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { checkDestination } from '../calls/dial-string.js';
import { RexianError } from '../errors/index.js';
import { appendToStream } from '../store/streams.js';
import type { AcdCallState, AcdService, Consult } from './service.js';
import { findWindow, windowEndpoint } from './windows.js';

/** Where a transfer or a consultation goes: exactly one of these. */
export type TransferTarget = { queue: string } | { agent: string } | { number: string } | { window: string };

type Result = Record<string, unknown>;

const busy = (message: string, details: Record<string, unknown>): RexianError =>
  new RexianError('REXIAN_CALL_STATE', details, message);

/**
 * A call's hold time up to `until` (ms), a hold still running counted to then. Hold counts
 * only while an agent has the call (see src/records/call-record.ts for the definitions): when
 * the agent leaves a citizen on music, the hold so far is settled and `heldSince` cleared.
 */
export function holdSoFar(state: Pick<AcdCallState, 'held' | 'heldSince' | 'holdMs'>, until: number): number {
  const running = state.held && state.heldSince !== undefined ? Math.max(0, until - state.heldSince) : 0;
  return (state.holdMs ?? 0) + running;
}

export class AgentCallActions {
  constructor(private readonly acd: AcdService) {}

  private get deps() {
    return this.acd.deps;
  }

  /**
   * Runs an action on the call an agent is on, in that call's order. The call must be on
   * this controller (its ARI app holds the channels).
   */
  private async onAgentsCall(
    agentId: string,
    action: string,
    task: (call: Call, state: AcdCallState) => Promise<Result>,
  ): Promise<Result> {
    const agent = await this.deps.router.agent(agentId);
    if (agent.state !== 'on-call' || !agent.call) {
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, state: agent.state },
        `agent "${agentId}" is not on a call (${agent.state ?? 'logged-out'}); cannot ${action}`,
      );
    }
    const callId = agent.call;
    if (!this.acd.calls.get(callId)) {
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, callId },
        `call ${callId} is handled by another controller; send the request there`,
      );
    }
    return this.acd.calls.within(callId, async (call) => {
      const state = this.acd.state(call);
      if (state?.phase !== 'connected' || state.agentId !== agentId) {
        throw new RexianError(
          'REXIAN_AGENT_STATE',
          { agentId, callId },
          `call ${callId} is not connected to agent "${agentId}"; cannot ${action}`,
        );
      }
      return { callId, ...(await task(call, state)) };
    });
  }

  private noConsult(state: AcdCallState, call: Call, action: string): void {
    if (state.consult)
      throw busy(
        `call ${call.id} has a consultation with ${state.consult.label} under way: complete, conference or cancel it before you ${action}`,
        { callId: call.id, consult: state.consult.label },
      );
  }

  // ---- hold, mute, hang up -----------------------------------------------------------------

  /** The citizen leaves the talk for music on hold; the agent hears silence. */
  hold(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'hold', async (call, state) => {
      this.noConsult(state, call, 'hold');
      if (state.held) return { held: true };
      await this.citizenToMusic(call, state);
      await this.acd.save(call, { held: true, heldSince: Date.now() });
      await call.note('hold', { agentId }, 'citizen on hold');
      this.deps.notifier.agentCall(agentId, call.id, 'held');
      return { held: true };
    });
  }

  resume(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'resume', async (call, state) => {
      this.noConsult(state, call, 'resume');
      if (!state.held) return { held: false };
      await this.citizenToTalk(call, state);
      const heldMs = Date.now() - (state.heldSince ?? Date.now());
      await this.acd.save(call, { held: false, heldSince: undefined, holdMs: (state.holdMs ?? 0) + heldMs });
      await call.note('resume', { agentId, heldMs }, 'citizen back from hold');
      this.deps.notifier.agentCall(agentId, call.id, 'talking');
      return { held: false };
    });
  }

  /** Mute: what the agent says no longer reaches the call; the agent still hears it. */
  mute(agentId: string, muted: boolean): Promise<Result> {
    return this.onAgentsCall(agentId, muted ? 'mute' : 'unmute', async (call, state) => {
      if (Boolean(state.muted) === muted) return { muted };
      await (muted ? call.ari.channels.mute(state.agentLeg!, 'in') : call.ari.channels.unmute(state.agentLeg!, 'in'));
      await this.acd.save(call, { muted });
      await call.note(muted ? 'mute' : 'unmute', { agentId }, muted ? 'agent muted' : 'agent unmuted');
      this.deps.notifier.agentCall(agentId, call.id, muted ? 'muted' : 'talking');
      return { muted };
    });
  }

  /** The agent ends the call (as if they hung up their phone): wrap-up and the survey follow. */
  hangup(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'hang up', async (call, state) => {
      await call.ari.hangupChannel(state.agentLeg!);
      return { ended: true };
    });
  }

  /** Pauses or resumes the call's recording (the citizen is reading out an ID number). */
  pauseRecording(agentId: string, paused: boolean): Promise<Result> {
    return this.onAgentsCall(agentId, paused ? 'pause the recording' : 'resume the recording', async (call, state) => {
      if (!state.recording) throw busy(`call ${call.id} is not being recorded`, { callId: call.id });
      if (Boolean(state.recordingPaused) === paused) return { recording: state.recording, paused };
      await this.deps.recordings.pause(state.recording, paused);
      await this.acd.save(call, { recordingPaused: paused });
      await call.note(
        paused ? 'recording-paused' : 'recording-resumed',
        { agentId, recording: state.recording },
        paused ? 'recording paused' : 'recording resumed',
      );
      return { recording: state.recording, paused };
    });
  }

  private async citizenToMusic(call: Call, state: AcdCallState): Promise<void> {
    await call.ari.bridges.removeIfPresent(state.bridgeId!, call.channelId);
    await call.ari.channels.startMusic(call.channelId, this.acd.queue(state.origin).musicClass);
  }

  private async citizenToTalk(call: Call, state: AcdCallState): Promise<void> {
    await call.ari.channels.stopMusicIfPresent(call.channelId);
    await call.ari.bridges.add(state.bridgeId!, call.channelId);
  }

  // ---- emergency hand-off ------------------------------------------------------------------

  /**
   * Emergency hand-off: the emergency line (110 police, 119 fire, 120 ambulance, 122 traffic
   * police) is called through the emergency trunk, presenting the citizen's number, and
   * joins citizen and agent in the talk bridge; the agent may then leave. The conversation is
   * recorded from the moment of the hand-off, and the hand-off is kept as an emergency event.
   * Nothing here looks at hours, queues or limits: none of them may delay it.
   */
  emergency(agentId: string, number: string): Promise<Result> {
    const destination = checkDestination('emergency', number, 'number');
    return this.onAgentsCall(agentId, 'hand off to an emergency line', async (call, state) => {
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is already being handed to ${state.emergencyNumber}`, { callId: call.id });
      if (state.consult) await this.dropConsult(call, state, 'emergency');
      if (state.held || state.consult) await this.citizenToTalk(call, state);
      const legCount = state.legCount + 1;
      const leg = emergencyLeg(call.id, legCount);
      const recording = emergencyRecording(call.id);
      const at = new Date().toISOString();
      await this.acd.save(call, {
        legCount,
        emergencyLeg: leg,
        emergencyNumber: destination.number,
        ...this.offHold(this.acd.state(call)!),
        consult: undefined,
      });
      await this.acd.calls.attachLeg(call, leg, { role: 'emergency', party: destination.number });
      if (
        !(await this.deps.recordings.recordBridge(state.bridgeId!, {
          name: recording,
          callId: call.id,
          agentId,
          queue: state.origin,
          did: call.state.did,
          kind: 'emergency',
        }))
      ) {
        call.log.error('could not record the emergency hand-off; handing off anyway');
      }
      await appendToStream(
        this.deps.redis,
        `${this.deps.prefix}:emergency-events`,
        {
          callId: call.id,
          agentId,
          number: destination.number,
          caller: call.state.caller,
          did: call.state.did,
          recording,
          at,
        },
        100_000,
      );
      await call.note(
        'emergency',
        { agentId, number: destination.number, emergencyChannel: leg, recording, at },
        'emergency hand-off',
        'warn',
      );
      this.deps.notifier.agentEmergency(agentId, call.id, destination.number, at);
      await this.deps.ari.originate({
        channelId: leg,
        endpoint: `PJSIP/${destination.number}@emergency`,
        callerId: call.state.caller || call.state.did,
        timeout: 120,
        appArgs: `agent-leg,${call.id}`,
      });
      return { emergencyChannel: leg, number: destination.number, recording };
    });
  }

  private async onEmergencyEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<void> {
    const gone = event.type === 'ChannelDestroyed' || event.type === 'StasisEnd';
    if (event.type === 'StasisStart' && !state.emergencyJoined) {
      await call.ari.bridges.add(state.bridgeId!, state.emergencyLeg!);
      await this.acd.save(call, { emergencyJoined: true });
      await call.note(
        'emergency-answered',
        { number: state.emergencyNumber, agentId: state.agentId },
        'emergency line joined the call',
        'warn',
      );
      return;
    }
    if (!gone) return;
    await this.acd.calls.detachLeg(call, state.emergencyLeg!);
    if (!state.emergencyJoined) {
      call.log.error(
        { number: state.emergencyNumber, cause: event.cause_txt },
        'emergency line did not answer; the citizen stays with the agent',
      );
      await this.acd.save(call, { emergencyLeg: undefined, emergencyNumber: undefined });
      this.deps.notifier.agentEmergencyFailed(
        state.agentId!,
        call.id,
        state.emergencyNumber!,
        String(event.cause_txt ?? 'no answer'),
      );
      return;
    }
    await this.acd.save(call, { emergencyLeg: undefined, emergencyJoined: false });
    await call.note('emergency-left', { number: state.emergencyNumber }, 'emergency line left the call', 'warn');
    // Handed off and the agent already gone: nobody is left to talk to the citizen.
    if (state.phase === 'done') await call.hangup();
  }

  // ---- transfers and consultations --------------------------------------------------------

  /**
   * Blind transfer: the agent is released at once. To a queue, the citizen waits there ahead
   * of new callers of the same priority; to an agent, a number or a window, the citizen hears
   * music until the other side answers.
   */
  transfer(agentId: string, to: TransferTarget): Promise<Result> {
    if ('queue' in to) return this.transferToQueue(agentId, to.queue);
    const target = this.resolve(to); // a bad number or an unknown window fails before anything moves
    return this.onAgentsCall(agentId, 'transfer', async (call, state) => {
      this.noConsult(state, call, 'transfer');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}; it cannot be transferred`, {
          callId: call.id,
        });
      const consult = await this.placeConsult(call, state, target, 'blind');
      await this.releaseAgent(call, state, 'blind transfer');
      await this.acd.save(call, {
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

  private transferToQueue(agentId: string, queueId: string): Promise<Result> {
    const q = this.acd.queue(queueId);
    return this.onAgentsCall(agentId, 'transfer', async (call, state) => {
      this.noConsult(state, call, 'transfer');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}; it cannot be transferred`, {
          callId: call.id,
        });
      const why = await this.acd.cannotTake(q);
      if (why) throw busy(`cannot transfer to queue "${q.id}": ${why}`, { queue: q.id });
      await this.releaseAgent(call, state, 'transfer to a queue');
      await this.acd.save(call, { phase: 'done', transfers: (state.transfers ?? 0) + 1 });
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
  consult(agentId: string, to: Exclude<TransferTarget, { queue: string }>): Promise<Result> {
    const target = this.resolve(to);
    return this.onAgentsCall(agentId, 'consult', async (call, state) => {
      this.noConsult(state, call, 'consult again');
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is being handed to ${state.emergencyNumber}`, { callId: call.id });
      const consult = await this.placeConsult(call, state, target, 'attended');
      return { consulting: consult.label, kind: consult.kind, channel: consult.leg };
    });
  }

  /** Attended transfer: the agent leaves, the citizen talks to the consulted party. */
  completeTransfer(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'complete a transfer', async (call, state) => {
      const consult = this.answeredConsult(call, state);
      await this.finishTransfer(call, state, false);
      return { transferred: true, to: consult.label };
    });
  }

  /** Three-way: the citizen joins the agent and the consulted party in the talk bridge. */
  conference(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'join all three', async (call, state) => {
      const consult = this.answeredConsult(call, state);
      if (consult.conference) return { conference: true, with: consult.label };
      await this.citizenToTalk(call, state);
      await this.acd.save(call, { consult: { ...consult, conference: true }, ...this.offHold(state) });
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
  cancelConsult(agentId: string): Promise<Result> {
    return this.onAgentsCall(agentId, 'cancel a consultation', async (call, state) => {
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

  private resolve(to: Exclude<TransferTarget, { queue: string }>): Omit<
    Consult,
    'leg' | 'mode' | 'answered' | 'conference' | 'startedAt' | 'wasHeld' | 'fromAgent'
  > & {
    endpoint: string;
    callerId: (call: Call) => string;
  } {
    const pstn = this.deps.pstnEndpoint ?? 'pstn';
    if ('agent' in to) {
      const agent = this.deps.roster().agents.get(to.agent);
      if (!agent) throw new RexianError('REXIAN_UNKNOWN_AGENT', { field: 'agent', agentId: to.agent });
      return {
        kind: 'agent',
        target: agent.id,
        label: `${agent.name} (${agent.id})`,
        endpoint: `PJSIP/${agentEndpoint(agent.id)}`,
        callerId: (call) => `"${call.state.did} 转接" <${call.state.did}>`,
      };
    }
    if ('window' in to) {
      const w = findWindow(this.deps.windows(), to.window);
      return {
        kind: 'window',
        target: w.id,
        label: w.centre ? `${w.centre} ${w.name}` : w.name,
        endpoint: windowEndpoint(w, pstn),
        callerId: (call) => `"${call.state.did} 热线" <${call.state.did}>`,
      };
    }
    const d = checkDestination('external', to.number, 'number');
    return {
      kind: 'number',
      target: d.number,
      label: d.number,
      endpoint: `PJSIP/${d.number}@${pstn}`,
      callerId: (call) => call.state.did,
    };
  }

  /** Puts the citizen to music and rings the other side on a leg of the call. */
  private async placeConsult(
    call: Call,
    state: AcdCallState,
    target: ReturnType<AgentCallActions['resolve']>,
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
    if (!state.held) await this.citizenToMusic(call, state);
    await this.acd.save(call, { legCount, consult, held: true, heldSince: state.held ? state.heldSince : now });
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
      if (!consult.wasHeld) await this.citizenToTalk(call, state);
      await this.acd.save(call, {
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

  /** The agent's leg leaves the call; the agent goes to wrap-up. */
  private async releaseAgent(call: Call, state: AcdCallState, why: string): Promise<void> {
    if (state.agentLeg) {
      await this.acd.calls.detachLeg(call, state.agentLeg);
      await call.ari.hangupChannel(state.agentLeg);
    }
    await this.settleHold(call);
    if (state.agentId) {
      await this.acd.wrapUp(call, state.agentId, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
      this.deps.notifier.agentCall(state.agentId, call.id, 'released', why);
    }
  }

  /** The consulted agent is not taking the call after all: ready again (or as the ring-no-answer rule says). */
  private async releaseTarget(consult: Consult): Promise<void> {
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
  private async dropConsult(call: Call, state: AcdCallState, why: string): Promise<void> {
    const consult = state.consult!;
    await this.stopRingback(call, consult);
    await this.acd.calls.detachLeg(call, consult.leg);
    await call.ari.hangupChannel(consult.leg);
    await this.releaseTarget(consult);
    await this.acd.save(call, { consult: undefined });
    await call.note('consult-ended', { with: consult.label, why }, 'consultation ended');
  }

  private offHold(state: AcdCallState): Partial<AcdCallState> {
    return { held: false, heldSince: undefined, holdMs: holdSoFar(state, Date.now()) };
  }

  /** The agent leaves a citizen who may be on music: their hold so far counts, what follows does not. */
  private async settleHold(call: Call): Promise<void> {
    const now = this.acd.state(call);
    if (now?.held && now.heldSince !== undefined)
      await this.acd.save(call, { heldSince: undefined, holdMs: holdSoFar(now, Date.now()) });
  }

  /** After a consultation: the citizen is with the agent again (or still on hold, if they were). */
  private async backToAgent(call: Call, state: AcdCallState): Promise<void> {
    const consult = state.consult!;
    if (consult.wasHeld) return;
    if (!consult.conference) await this.citizenToTalk(call, state);
    await this.acd.save(call, this.offHold(state));
  }

  /**
   * The consulted party takes the citizen: the agent leaves (unless gone already), the
   * citizen joins the talk bridge. A consulted agent becomes the call's agent; a number or a
   * window stays with the citizen until either hangs up.
   */
  private async finishTransfer(call: Call, state: AcdCallState, agentGone: boolean): Promise<void> {
    const consult = state.consult!;
    const now = Date.now();
    if (!agentGone) await this.releaseAgent(call, state, 'transfer completed');
    if (!consult.conference) await this.citizenToTalk(call, state);
    const common = { ...this.offHold(state), transfers: (state.transfers ?? 0) + (consult.mode === 'blind' ? 0 : 1) };
    if (consult.kind === 'agent') {
      await this.deps.router.setAgentState(consult.target, 'on-call', '', call.id, now, {
        expect: ['reserved', 'on-call'],
      });
      await this.acd.save(call, {
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
      await this.acd.save(call, {
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
      { from: consult.fromAgent, to: consult.label, kind: consult.kind },
      'call transferred',
    );
  }

  // ---- events of the call's extra legs ------------------------------------------------------

  /** ARI events of the emergency and consultation legs; true when handled. */
  async onLegEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<boolean> {
    const channelId = event.channel?.id;
    if (state.emergencyLeg && channelId === state.emergencyLeg) {
      await this.onEmergencyEvent(call, state, event);
      return true;
    }
    if (state.consult && channelId === state.consult.leg) {
      await this.onConsultEvent(call, state, state.consult, event);
      return true;
    }
    return false;
  }

  private async onConsultEvent(call: Call, state: AcdCallState, consult: Consult, event: AriEvent): Promise<void> {
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
      await this.acd.save(call, {
        consult: answered,
        ...(consult.kind === 'window' ? { windowId: consult.target } : {}),
      });
      await call.note(
        'consult-answered',
        { agentId: state.agentId, with: consult.label },
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
      await this.acd.save(call, { consult: undefined, phase: 'done', hangupSide: 'other' });
      await call.hangup();
      return;
    }
    await this.releaseTarget(consult);
    if (state.phase === 'transferring') {
      // The agent is gone: the citizen goes back to the queue, ahead of new callers.
      await call.note(
        'transfer-failed',
        { to: consult.label, cause },
        'blind transfer failed; the citizen goes back to the queue',
        'warn',
      );
      this.deps.notifier.agentTransferFailed(consult.fromAgent, call.id, consult.label, cause);
      await call.ari.channels.stopMusicIfPresent(call.channelId);
      await this.acd.save(call, { phase: 'done', consult: undefined, held: false });
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
    await this.acd.save(call, { consult: undefined });
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
        { with: consult.label, cause },
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
        { agentId: state.agentId, with: consult.label },
        consult.conference
          ? 'agent left the three-way; the citizen stays with the other side'
          : 'agent hung up; the consulted party takes the citizen',
      );
      return true;
    }
    await this.settleHold(call);
    await this.acd.save(call, {
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

  /** The citizen hung up: the consultation or transfer leg goes too. */
  async onCallEnded(state: AcdCallState): Promise<void> {
    if (state.emergencyLeg) await this.deps.ari.hangupChannel(state.emergencyLeg);
    if (state.consult) {
      await this.deps.ari.hangupChannel(state.consult.leg);
      if (state.phase !== 'transferred') await this.releaseTarget(state.consult);
    }
  }
}
