// Calls to a virtual number: A dials X and B rings, seeing X as the caller; B dials X and A
// rings, seeing X. Nobody's real number goes to the other side: the far leg is placed with X
// as its caller id, and the trunk sends no identity headers (no PAI, no RPID, no Diversion).
// Anyone else who dials X, or a binding that expired, hears why and goes on to 12345.
import type { Logger } from 'pino';

import { maskNumber } from '../acd/screen-pop.js';
import type { AriEvent } from '../asterisk/ari.js';
import { maskedLeg, maskedRecording, talkBridge } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import type { CallService } from '../calls/service.js';
import { LogEvent } from '../events/log-events.js';
import type { RecordingService } from '../recording/service.js';
import type { BindingStore } from './bindings.js';

interface MaskedState {
  bindingId: string;
  x: string;
  leg: string;
  connected: boolean;
  bridgeId: string;
  record: boolean;
}

const REFUSALS: Record<'not-bound' | 'expired' | 'not-a-party' | 'call-limit', string> = {
  'not-bound': '您拨打的号码不为您提供服务。',
  'not-a-party': '您拨打的号码不为您提供服务。',
  expired: '您拨打的号码服务已到期。',
  'call-limit': '您拨打的号码呼叫次数已达上限。',
};

export interface MaskedCallDeps {
  bindings: BindingStore;
  /** Whether a dialled number is one of the pool's. */
  isVirtual: (did: string) => boolean;
  /** The calls domain: legs, and the hand-off to the 12345 flow (calls/event-path.ts). */
  calls: CallService;
  recordings: RecordingService;
  pstnEndpoint?: string;
  logger: Logger;
}

export class MaskedCalls {
  constructor(private readonly deps: MaskedCallDeps) {}

  serves(did: string): boolean {
    return this.deps.isVirtual(did);
  }

  private state(call: Call): MaskedState | undefined {
    return call.flow.masking as MaskedState | undefined;
  }

  /** A call to X arrived: ring the other party of its binding, or say why not. */
  async start(call: Call): Promise<void> {
    const x = call.state.did;
    const decision = await this.deps.bindings.route(x, call.state.caller);
    if ('refused' in decision) {
      await call.note(
        'refused',
        { event: LogEvent.maskingRefused, x, refused: decision.refused },
        'call to a virtual number refused',
      );
      await call.answer();
      await this.deps.calls.handoffs.toHotline(call, {
        text: `${REFUSALS[decision.refused]}正在为您转接12345政务服务便民热线。`,
      });
      return;
    }
    const { binding, to } = decision;
    const state: MaskedState = {
      bindingId: binding.id,
      x,
      leg: maskedLeg(call.id),
      connected: false,
      bridgeId: talkBridge(call.id),
      record: binding.record,
    };
    await call.updateFlow({ masking: state, maskingBinding: binding.id });
    await this.deps.calls.attachLeg(call, state.leg, { role: 'far-party', party: maskNumber(to) });
    call.log.info({ binding: binding.id, x, leg: state.leg }, 'virtual number: ringing the other party');
    await call.ari.originate({
      channelId: state.leg,
      endpoint: `PJSIP/${to}@${this.deps.pstnEndpoint ?? 'pstn'}`,
      callerId: `"${x}" <${x}>`,
      timeout: 60,
      appArgs: `agent-leg,${call.id}`,
    });
  }

  /** Events of the far leg; true when handled. */
  async onEvent(call: Call, event: AriEvent): Promise<boolean> {
    const state = this.state(call);
    if (!state || event.channel?.id !== state.leg) return false;
    if (event.type === 'StasisStart' && !state.connected) {
      await call.answer();
      await call.ari.ensureBridge(state.bridgeId, 'mixing', `masked ${call.id}`);
      await call.ari.bridges.add(state.bridgeId, [call.channelId, state.leg]);
      await call.updateFlow({ masking: { ...state, connected: true } });
      if (state.record) {
        const name = maskedRecording(call.id);
        if (
          await this.deps.recordings.recordBridge(state.bridgeId, {
            name,
            callId: call.id,
            agentId: '',
            queue: '',
            did: state.x,
            kind: 'talk',
          })
        )
          await call.updateFlow({ recording: name });
      }
      await call.note(
        'far-party-answered',
        { event: LogEvent.maskingConnected, binding: state.bindingId },
        'virtual number: connected',
      );
      return true;
    }
    if (event.type === 'ChannelDestroyed' || event.type === 'StasisEnd') {
      await this.deps.calls.detachLeg(call, state.leg);
      await call.note(
        'far-party-left',
        { binding: state.bindingId, connected: state.connected, cause: String(event.cause_txt ?? '') },
        'virtual number: the other party hung up or did not answer',
      );
      await call.hangup(state.connected ? 'normal' : Number(event.cause) === 17 ? 'busy' : 'normal');
    }
    return true;
  }

  async onEnd(call: Call): Promise<void> {
    const state = this.state(call);
    if (!state) return;
    await call.ari.hangupChannel(state.leg);
    await call.ari.bridges.destroyIfPresent(state.bridgeId);
  }
}
