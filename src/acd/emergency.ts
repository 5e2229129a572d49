// The emergency hand-off: the emergency line (110 police, 119 fire, 120 ambulance, 122 traffic
// police) is called through the emergency trunk, presenting the citizen's number, and joins
// citizen and agent in the talk bridge; the agent may then leave. The conversation is recorded
// from the moment of the hand-off, and the hand-off is kept as an emergency event. Nothing here
// looks at hours, queues or limits: none of them may delay it.
import type { AriEvent } from '../asterisk/ari.js';
import { emergencyLeg, emergencyRecording } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { checkDestination } from '../calls/dial-string.js';
import { LogEvent } from '../events/log-events.js';
import { appendToStream } from '../store/streams.js';
import { type AcdCallState, acdState, saveAcd } from './call-state.js';
import { type ActionResult, busy, citizenToTalk, offHold, onAgentsCall } from './call-talk.js';
import type { Consults } from './consults.js';
import type { AcdCore } from './core.js';

export class EmergencyHandOff {
  constructor(
    private readonly acd: AcdCore,
    private readonly consults: Pick<Consults, 'dropConsult'>,
  ) {}

  private get deps() {
    return this.acd.deps;
  }

  /**
   * Emergency hand-off: the emergency line (110 police, 119 fire, 120 ambulance, 122 traffic
   * police) is called through the emergency trunk, presenting the citizen's number, and
   * joins citizen and agent in the talk bridge; the agent may then leave. The conversation is
   * recorded from the moment of the hand-off, and the hand-off is kept as an emergency event.
   * Nothing here looks at hours, queues or limits: none of them may delay it.
   */
  emergency(agentId: string, number: string): Promise<ActionResult> {
    const destination = checkDestination('emergency', number, 'number');
    return onAgentsCall(this.acd, agentId, 'hand off to an emergency line', async (call, state) => {
      if (state.emergencyLeg)
        throw busy(`call ${call.id} is already being handed to ${state.emergencyNumber}`, { callId: call.id });
      if (state.consult) await this.consults.dropConsult(call, state, 'emergency');
      if (state.held || state.consult) await citizenToTalk(call, state);
      const legCount = state.legCount + 1;
      const leg = emergencyLeg(call.id, legCount);
      const recording = emergencyRecording(call.id);
      const at = new Date().toISOString();
      await saveAcd(call, {
        legCount,
        emergencyLeg: leg,
        emergencyNumber: destination.number,
        ...offHold(acdState(call)!),
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

  async onEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<void> {
    const gone = event.type === 'ChannelDestroyed' || event.type === 'StasisEnd';
    if (event.type === 'StasisStart' && !state.emergencyJoined) {
      await call.ari.bridges.add(state.bridgeId!, state.emergencyLeg!);
      await saveAcd(call, { emergencyJoined: true });
      // The agent's page says so: the agent may now hang up and leave the citizen with the line.
      this.deps.notifier.agentEmergencyAnswered(
        state.agentId!,
        call.id,
        state.emergencyNumber!,
        new Date().toISOString(),
      );
      await call.note(
        'emergency-answered',
        { event: LogEvent.emergencyJoined, number: state.emergencyNumber, agentId: state.agentId },
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
      await saveAcd(call, { emergencyLeg: undefined, emergencyNumber: undefined });
      this.deps.notifier.agentEmergencyFailed(
        state.agentId!,
        call.id,
        state.emergencyNumber!,
        String(event.cause_txt ?? 'no answer'),
      );
      return;
    }
    await saveAcd(call, { emergencyLeg: undefined, emergencyJoined: false });
    await call.note('emergency-left', { number: state.emergencyNumber }, 'emergency line left the call', 'warn');
    // Handed off and the agent already gone: nobody is left to talk to the citizen.
    if (state.phase === 'done') await call.hangup();
  }
}
