// What an agent does during a call: hold and resume, mute, hang up, pause the recording, and
// the entries of the emergency hand-off (emergency.ts) and of transfers and consultations
// (consults.ts). The agent call actions depend on AcdCore (core.ts), a narrow interface of the
// ACD, not on AcdService: the imports run one way, from service.ts to here.
import type { AriEvent } from '../asterisk/ari.js';
import type { Call } from '../calls/call.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, saveAcd } from './call-state.js';
import { type ActionResult, busy, citizenToMusic, citizenToTalk, noConsult, onAgentsCall } from './call-talk.js';
import { Consults } from './consults.js';
import type { AcdCore } from './core.js';
import { EmergencyHandOff } from './emergency.js';
import type { TransferTarget } from './transfer-targets.js';

export type { TransferTarget } from './transfer-targets.js';

export class AgentCallActions {
  private readonly consults: Consults;
  private readonly emergencies: EmergencyHandOff;

  constructor(private readonly acd: AcdCore) {
    this.consults = new Consults(acd);
    this.emergencies = new EmergencyHandOff(acd, this.consults);
  }

  private get deps() {
    return this.acd.deps;
  }

  // ---- hold, mute, hang up, recording -------------------------------------------------------

  /** The citizen leaves the talk for music on hold; the agent hears silence. */
  hold(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'hold', async (call, state) => {
      noConsult(state, call, 'hold');
      if (state.held) return { held: true };
      await citizenToMusic(this.acd, call, state);
      await saveAcd(call, { held: true, heldSince: Date.now() });
      await call.note('hold', { event: LogEvent.citizenHeld, agentId }, 'citizen on hold');
      this.deps.notifier.agentCall(agentId, call.id, 'held');
      return { held: true };
    });
  }

  resume(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'resume', async (call, state) => {
      noConsult(state, call, 'resume');
      if (!state.held) return { held: false };
      await citizenToTalk(call, state);
      const heldMs = Date.now() - (state.heldSince ?? Date.now());
      await saveAcd(call, { held: false, heldSince: undefined, holdMs: (state.holdMs ?? 0) + heldMs });
      await call.note('resume', { event: LogEvent.citizenResumed, agentId, heldMs }, 'citizen back from hold');
      this.deps.notifier.agentCall(agentId, call.id, 'talking');
      return { held: false };
    });
  }

  /** Mute: what the agent says no longer reaches the call; the agent still hears it. */
  mute(agentId: string, muted: boolean): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, muted ? 'mute' : 'unmute', async (call, state) => {
      if (Boolean(state.muted) === muted) return { muted };
      await (muted ? call.ari.channels.mute(state.agentLeg!, 'in') : call.ari.channels.unmute(state.agentLeg!, 'in'));
      await saveAcd(call, { muted });
      await call.note(muted ? 'mute' : 'unmute', { agentId }, muted ? 'agent muted' : 'agent unmuted');
      this.deps.notifier.agentCall(agentId, call.id, muted ? 'muted' : 'talking');
      return { muted };
    });
  }

  /** The agent ends the call (as if they hung up their phone): wrap-up and the survey follow. */
  hangup(agentId: string): Promise<ActionResult> {
    return onAgentsCall(this.acd, agentId, 'hang up', async (call, state) => {
      await call.ari.hangupChannel(state.agentLeg!);
      return { ended: true };
    });
  }

  /** Pauses or resumes the call's recording (the citizen is reading out an ID number). */
  pauseRecording(agentId: string, paused: boolean): Promise<ActionResult> {
    return onAgentsCall(
      this.acd,
      agentId,
      paused ? 'pause the recording' : 'resume the recording',
      async (call, state) => {
        if (!state.recording) throw busy(`call ${call.id} is not being recorded`, { callId: call.id });
        if (Boolean(state.recordingPaused) === paused) return { recording: state.recording, paused };
        await this.deps.recordings.pause(state.recording, paused);
        await saveAcd(call, { recordingPaused: paused });
        await call.note(
          paused ? 'recording-paused' : 'recording-resumed',
          { agentId, recording: state.recording },
          paused ? 'recording paused' : 'recording resumed',
        );
        return { recording: state.recording, paused };
      },
    );
  }

  // ---- emergency hand-off, transfers and consultations (emergency.ts, consults.ts) -----------

  /** Emergency hand-off to 110/119/120/122: the line joins citizen and agent in the talk bridge. */
  emergency(agentId: string, number: string): Promise<ActionResult> {
    return this.emergencies.emergency(agentId, number);
  }

  /** Blind transfer: the agent is released at once. */
  transfer(agentId: string, to: TransferTarget): Promise<ActionResult> {
    return this.consults.transfer(agentId, to);
  }

  /** Consultation: the citizen hears music while the agent talks to the other side. */
  consult(agentId: string, to: Exclude<TransferTarget, { queue: string }>): Promise<ActionResult> {
    return this.consults.consult(agentId, to);
  }

  /** Attended transfer: the agent leaves, the citizen talks to the consulted party. */
  completeTransfer(agentId: string): Promise<ActionResult> {
    return this.consults.completeTransfer(agentId);
  }

  /** Three-way: the citizen joins the agent and the consulted party in the talk bridge. */
  conference(agentId: string): Promise<ActionResult> {
    return this.consults.conference(agentId);
  }

  /** Ends the consultation: the other side is hung up, the citizen is back with the agent. */
  cancelConsult(agentId: string): Promise<ActionResult> {
    return this.consults.cancelConsult(agentId);
  }

  // ---- events of the call's extra legs ------------------------------------------------------

  /** ARI events of the emergency and consultation legs; true when handled. */
  async onLegEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<boolean> {
    const channelId = event.channel?.id;
    if (state.emergencyLeg && channelId === state.emergencyLeg) {
      await this.emergencies.onEvent(call, state, event);
      return true;
    }
    if (state.consult && channelId === state.consult.leg) {
      await this.consults.onEvent(call, state, state.consult, event);
      return true;
    }
    return false;
  }

  /**
   * The agent hung up during a consultation: the consulted party keeps the citizen, or will
   * take them when it answers. False when there is no consultation.
   */
  agentLeftDuringConsult(call: Call, state: AcdCallState): Promise<boolean> {
    return this.consults.agentLeftDuringConsult(call, state);
  }

  /** The citizen hung up: the consultation or transfer leg goes too. */
  async onCallEnded(state: AcdCallState): Promise<void> {
    if (state.emergencyLeg) await this.deps.ari.hangupChannel(state.emergencyLeg);
    if (state.consult) {
      await this.deps.ari.hangupChannel(state.consult.leg);
      if (state.phase !== 'transferred') await this.consults.releaseTarget(state.consult);
    }
  }
}
