// The calls domain: turns ARI events into Call objects, hands them to the flow, and after
// every (re)connect reconciles with Asterisk, which is the truth about what still exists.
import type { Logger } from 'pino';
import { isInApp, type AriChannel, type AriClient, type AriEvent } from '../asterisk/ari.js';
import { Call, type CallRecordState, type LegRole } from './call.js';
import { SerialQueue } from './serial-queue.js';
import { RexianError } from '../errors/index.js';
import type { CallStore } from './store.js';

export interface CallFlow {
  /** A new call entered the Stasis app. */
  start(call: Call): Promise<void>;
  /** The controller (re)connected and found this call still live: continue from its saved state. */
  resume(call: Call): Promise<void>;
  /** An ARI event that concerns this call. */
  onEvent(call: Call, event: AriEvent): Promise<void>;
  /** The call is over (hung up, or found gone at reconcile): release what the flow holds. */
  onEnd?(call: Call): Promise<void>;
}

export type EndReason = 'hangup' | 'ended-while-away' | 'asterisk-restarted';

export class CallService {
  private readonly calls = new Map<string, Call>();
  private readonly byChannel = new Map<string, string>();
  private readonly timers = new Map<string, Set<NodeJS.Timeout>>();
  private readonly queue: SerialQueue;
  private reconciling: Promise<void> = Promise.resolve();
  private reconciled = false;
  private asteriskStartup = '';

  constructor(
    private readonly ari: AriClient,
    readonly store: CallStore,
    private readonly flow: CallFlow,
    private readonly logger: Logger,
    /** This controller's id, written into each call it handles. */
    readonly controllerId = '',
    /** A call is over: keep its record (before its live state is removed). */
    private readonly onEnded?: (state: CallRecordState, reason: EndReason) => Promise<void>,
  ) {
    this.queue = new SerialQueue((callId, err) => this.logger.error({ callId, err }, 'call task failed'));
    ari.on('connected', () => {
      this.reconciled = false;
      this.reconciling = this.reconcile().then(
        () => { this.reconciled = true; },
        (err: unknown) => {
          this.logger.error({ err }, 'reconcile failed; reconnecting to try again');
          void this.ari.stop().then(() => this.ari.start());
        },
      );
    });
    ari.on('disconnected', () => { this.reconciled = false; });
    ari.on('event', (event: AriEvent) => {
      // Events that arrive while we reconcile wait for it, then run in order.
      void this.reconciling.then(() => this.dispatch(event));
    });
  }

  /** True once the calls found at the last connect have been picked up. */
  get ready(): boolean {
    return this.reconciled && this.ari.connected;
  }

  get liveCount(): number {
    return this.calls.size;
  }

  private dispatch(event: AriEvent): void {
    if (event.type === 'StasisStart' && event.channel) {
      const channel = event.channel;
      const args = (event.args as string[] | undefined) ?? [];
      if (args[0] === 'inbound') {
        void this.queue.push(channel.id, () => this.begin(channel, args[1] ?? channel.dialplan.exten));
        return;
      }
      if (args[0] === 'outbound') {
        // The dialer reached a citizen: a call of its own, from the hotline's number to theirs.
        void this.queue.push(channel.id, () => this.begin(channel, channel.caller.number, { kind: 'outbound', caller: args[2] ?? '', dialerTask: args[1] }));
        return;
      }
      // Legs we originate belong to the call that made them (attached before the originate).
    }
    const channelId = event.channel?.id ?? targetChannel(event);
    if (!channelId) return;
    const callId = this.byChannel.get(channelId);
    if (!callId) return;
    void this.queue.push(callId, async () => {
      const call = this.calls.get(callId);
      if (!call) return;
      if ((event.type === 'StasisEnd' || event.type === 'ChannelDestroyed') && channelId === call.channelId) {
        await this.end(call, 'hangup');
        return;
      }
      await this.noteLeg(call, channelId, event);
      await this.flow.onEvent(call, event);
    });
  }

  private async begin(channel: AriChannel, did: string, outbound?: { kind: 'outbound'; caller: string; dialerTask?: string }): Promise<void> {
    const startedAt = new Date().toISOString();
    const state: CallRecordState = {
      callId: channel.id,
      channelId: channel.id,
      did,
      caller: outbound?.caller ?? channel.caller.number,
      startedAt,
      events: [{ at: startedAt, type: outbound ? 'answered-by-citizen' : 'entered', did }],
      asteriskStartup: this.asteriskStartup,
      flow: outbound?.dialerTask ? { dialerTask: outbound.dialerTask } : {},
      ...(outbound ? { kind: outbound.kind } : {}),
    };
    const call = this.track(state);
    await this.store.save(state);
    call.log.info({ did, caller: state.caller }, 'call entered');
    await this.flow.start(call);
  }

  /**
   * Makes a channel we are about to originate part of a call, before the originate, so no
   * event of it can arrive unclaimed. Persisted: a new process routes its events too.
   */
  async attachLeg(call: Call, channelId: string, leg?: { role: LegRole; party: string }): Promise<void> {
    const legs = call.state.legs ?? [];
    if (!legs.includes(channelId)) call.state.legs = [...legs, channelId];
    // A party's leg is kept with the record; internal channels (snoops) are not parties.
    if (leg) (call.state.legInfo ??= {})[channelId] ??= { ...leg, dialledAt: new Date().toISOString() };
    this.byChannel.set(channelId, call.id);
    await this.store.save(call.state);
  }

  async detachLeg(call: Call, channelId: string): Promise<void> {
    call.state.legs = (call.state.legs ?? []).filter((id) => id !== channelId);
    if (this.byChannel.get(channelId) === call.id) this.byChannel.delete(channelId);
    await this.store.save(call.state);
  }

  /** A leg answered (it entered our app) or ended: its times and cause go to the record. */
  private async noteLeg(call: Call, channelId: string, event: AriEvent): Promise<void> {
    const leg = call.state.legInfo?.[channelId];
    if (!leg) return;
    const at = new Date(typeof event.timestamp === 'string' ? event.timestamp : Date.now()).toISOString();
    if (event.type === 'StasisStart' && !leg.answeredAt) leg.answeredAt = at;
    else if (event.type === 'ChannelDestroyed' && !leg.endedAt) {
      leg.endedAt = at;
      leg.cause = String(event.cause_txt ?? event.cause ?? '');
    } else return;
    await this.store.save(call.state);
  }

  /**
   * A call that begins on our side (a queue callback): its first channel is one we are about
   * to originate. Returns the call; its work runs through the same per-call queue.
   */
  async open(state: CallRecordState): Promise<Call> {
    const call = this.track({ ...state, asteriskStartup: this.asteriskStartup });
    await this.store.save(call.state);
    return call;
  }

  /** Runs work in a call's order (behind its pending events); false when the call is not ours. */
  run(callId: string, task: (call: Call) => Promise<void>): boolean {
    if (!this.calls.has(callId)) return false;
    void this.queue.push(callId, async () => {
      const call = this.calls.get(callId);
      if (call) await task(call);
    });
    return true;
  }

  /** The live calls this controller handles. */
  list(): Call[] {
    return [...this.calls.values()];
  }

  /**
   * Runs work in a call's order and hands back its result (an API action on a live call).
   * Rejects with REXIAN_NOT_FOUND when the call is not on this controller.
   */
  within<T>(callId: string, task: (call: Call) => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const queued = this.run(callId, async (call) => {
        try { resolve(await task(call)); } catch (err) { reject(err); }
      });
      if (!queued) reject(new RexianError('REXIAN_NOT_FOUND', `no live call ${callId} on this controller`, { callId }, 404));
    });
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  private track(state: CallRecordState): Call {
    const callId = state.callId;
    state.owner = this.controllerId;
    const call = new Call(state, this.ari, this.store, this.logger, (delayMs, task) => {
      const run = (): void => {
        void this.queue.push(callId, async () => {
          if (this.calls.get(callId) === call) await task();
        });
      };
      if (delayMs <= 0) return run();
      const timer = setTimeout(() => { this.timers.get(callId)?.delete(timer); run(); }, delayMs);
      const set = this.timers.get(callId) ?? new Set();
      set.add(timer);
      this.timers.set(callId, set);
    });
    this.calls.set(state.callId, call);
    this.byChannel.set(state.channelId, state.callId);
    for (const leg of state.legs ?? []) this.byChannel.set(leg, state.callId);
    return call;
  }

  private async end(call: Call, reason: EndReason): Promise<void> {
    this.forget(call.id, call.channelId, call.state.legs);
    await this.flow.onEnd?.(call);
    // The record is kept before the live state goes: a crash between the two replays the
    // end at reconcile, and the record's key makes the second copy a no-op.
    await this.onEnded?.(call.state, reason);
    await this.store.remove(call.id);
    call.log.info({ reason, did: call.state.did }, 'call ended');
  }

  /**
   * After every connect: detect an Asterisk restart (its startup time changed: every call
   * we knew is gone), close out calls that ended while we were away, and resume the ones
   * still in our Stasis app.
   */
  private async reconcile(): Promise<void> {
    const info = await this.ari.info();
    this.asteriskStartup = info.status.startup_time;
    const previousStartup = await this.store.asteriskStartup();
    const restarted = previousStartup !== null && previousStartup !== this.asteriskStartup;
    if (restarted) this.logger.warn({ previousStartup, startup: this.asteriskStartup }, 'Asterisk restarted: calls it carried are lost');
    await this.store.setAsteriskStartup(this.asteriskStartup);

    const channels = new Map((await this.ari.channels()).filter((c) => isInApp(c, this.ari.app)).map((c) => [c.id, c]));
    const known = new Set<string>();
    for (const callId of await this.store.liveCallIds()) {
      const state = await this.store.load(callId);
      if (!state) { await this.store.remove(callId); continue; }
      known.add(state.channelId);
      const channel = channels.get(state.channelId);
      if (!channel || state.asteriskStartup !== this.asteriskStartup) {
        const gone = this.calls.get(callId);
        this.forget(callId, state.channelId, state.legs);
        const ended = gone ?? new Call(state, this.ari, this.store, this.logger, () => {});
        await this.flow.onEnd?.(ended);
        await this.onEnded?.(ended.state, restarted ? 'asterisk-restarted' : 'ended-while-away');
        await this.store.remove(callId);
        this.logger.warn({ callId, channelId: state.channelId, reason: restarted ? 'asterisk-restarted' : 'ended-while-away' }, 'call closed out at reconcile');
        continue;
      }
      const call = this.calls.get(callId) ?? this.track(state);
      await this.store.save(call.state); // now ours
      void this.queue.push(callId, async () => {
        call.log.info({ step: call.flow.step }, 'call picked up after reconnect');
        await this.flow.resume(call);
      });
    }
    // Channels in our app that we hold no state for (state lost): treat them as new calls.
    for (const channel of channels.values()) {
      if (known.has(channel.id)) continue;
      const args = (channel.dialplan.app_data ?? '').split(',');
      if (args[1] === 'inbound') void this.queue.push(channel.id, () => this.begin(channel, args[2] ?? channel.dialplan.exten));
      // A citizen the dialer reached while no controller was connected.
      else if (args[1] === 'outbound') void this.queue.push(channel.id, () => this.begin(channel, channel.caller.number, { kind: 'outbound', caller: args[3] ?? '', dialerTask: args[2] }));
    }
    this.logger.info({ resumed: this.calls.size, asteriskStartup: this.asteriskStartup }, 'reconciled with Asterisk');
  }

  private forget(callId: string, channelId: string, legs: string[] = []): void {
    this.calls.delete(callId);
    this.byChannel.delete(channelId);
    for (const leg of legs) if (this.byChannel.get(leg) === callId) this.byChannel.delete(leg);
    for (const timer of this.timers.get(callId) ?? []) clearTimeout(timer);
    this.timers.delete(callId);
  }

  /** Stops all timers (at shutdown; the next process re-arms them from saved state). */
  stopTimers(): void {
    for (const set of this.timers.values()) for (const timer of set) clearTimeout(timer);
    this.timers.clear();
  }

  /** Waits for queued call work (used at shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}

/** Playback and recording events name their channel only in target_uri. */
function targetChannel(event: AriEvent): string | undefined {
  const uri = event.playback?.target_uri ?? (event.recording as { target_uri?: string } | undefined)?.target_uri;
  return uri?.startsWith('channel:') ? uri.slice('channel:'.length) : undefined;
}
