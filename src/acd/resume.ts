// After a controller restart, or when another controller takes a call over: each call picks
// up where its saved state says, checked against Asterisk (the truth about which channels
// exist). A ring answered or ended while nobody watched is acted on now; a caller still queued
// keeps their place and their timers.
import type { AriEvent } from '../asterisk/ari.js';
import type { Call } from '../calls/call.js';
import { LogEvent } from '../events/log-events.js';
import { acdState } from './call-state.js';
import type { AcdWiring } from './core.js';

type ResumeNeeds = Pick<
  AcdWiring,
  | 'deps'
  | 'controllerId'
  | 'queue'
  | 'route'
  | 'releaseReservation'
  | 'hold'
  | 'armTimers'
  | 'ringFailed'
  | 'connect'
  | 'agentHungUp'
  | 'onLegEvent'
>;

export class Resume {
  constructor(private readonly acd: ResumeNeeds) {}

  private get deps() {
    return this.acd.deps;
  }

  /** After a controller restart: pick up where the call was. */
  async resume(call: Call): Promise<void> {
    const state = acdState(call);
    if (!state) return;
    if (call.state.kind === 'callback') return;
    const q = this.acd.queue(state.queue);
    await this.deps.waiting.updateEntry(call.id, { owner: this.acd.controllerId });
    switch (state.phase) {
      case 'waiting': {
        // The controller died between a match and its offer: the caller is out of the queue and
        // an agent reserved for nobody. Back to its exact place, and the agent is free again.
        const reserved = await this.deps.router.offerOf(call.id);
        if (reserved) {
          await this.deps.router.returnCall(call.id, { ifQueued: true });
          await this.acd.releaseReservation(reserved, call.id, 'offer-lost-in-restart', { route: false });
        }
        await this.acd
          .hold(call, q)
          .catch((err: unknown) =>
            call.log.warn({ err: (err as Error).message }, 'could not put the caller back in the holding bridge'),
          );
        this.acd.armTimers(
          call,
          {
            ...state,
            nextAnnounceAt: state.nextAnnounceAt === undefined ? undefined : Math.max(Date.now(), state.nextAnnounceAt),
          },
          q,
        );
        call.log.info({ event: LogEvent.queuePlaceKept, queue: q.id }, 'caller still queued after restart; place kept');
        void this.acd.route();
        return;
      }
      case 'offering': {
        const leg = await this.channelState(state.agentLeg!);
        if (leg === undefined) return this.acd.ringFailed(call, 'lost-while-away');
        if (leg === 'Up') return this.acd.connect(call);
        return; // still ringing: its answer or end will come as an event
      }
      case 'connected':
        if ((await this.channelState(state.agentLeg!)) === undefined) await this.acd.agentHungUp(call);
        else await this.resumeConsult(call);
        return;
      case 'transferring':
      case 'transferred':
        await this.resumeConsult(call);
        return;
      default:
    }
  }

  /** A consulted party answered or left while no controller was watching: act on it now. */
  private async resumeConsult(call: Call): Promise<void> {
    const consult = acdState(call)?.consult;
    if (!consult) return;
    const leg = await this.channelState(consult.leg);
    const channel = { id: consult.leg } as AriEvent['channel'];
    if (leg === undefined)
      await this.acd.onLegEvent(call, acdState(call)!, {
        type: 'ChannelDestroyed',
        channel,
        cause_txt: 'ended while away',
      });
    else if (leg === 'Up' && !consult.answered)
      await this.acd.onLegEvent(call, acdState(call)!, { type: 'StasisStart', channel });
  }

  private async channelState(channelId: string): Promise<string | undefined> {
    try {
      return (await this.deps.ari.channels.get(channelId)).state;
    } catch {
      return undefined;
    }
  }
}
