// The calls domain: turns ARI events into Call objects, starts and resumes them through the
// flow, and hands each call's events and its end to the event path (event-path.ts: the named
// order in which domains see them). One call's events run one at a time, in order. After every
// (re)connect it reconciles with Asterisk (reconcile.ts), and events that arrive meanwhile wait
// for that. Channels in our app that are not calls (a desk phone's feature code: first argument
// `feature`) are never begun, routed nor hung up here.
import type { Logger } from 'pino';

import type { AriChannel, AriClient, AriEvent } from '../asterisk/ari.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import { Call, type CallRecordState, type LegRole } from './call.js';
import { CallEnd, type EndReason } from './call-end.js';
import type { CallEventPath, CallHandoffs } from './event-path.js';
import { type LostState, Reconciler } from './reconcile.js';
import { SerialQueue } from './serial-queue.js';
import type { LiveCallStore } from './store.js';

export type { LostState } from './reconcile.js';

/** How a call begins and goes on after a reconnect (the IVR runner); its events go along the path. */
export interface CallFlow {
  /** A new call entered the Stasis app. */
  start(call: Call): Promise<void>;
  /** The controller (re)connected and found this call still live: continue from its saved state. */
  resume(call: Call): Promise<void>;
  /**
   * Rebuilds, from Asterisk's channels and bridges, calls whose saved state is gone (callers
   * waiting in a holding bridge, calls talking to an agent). Returns the channels it took;
   * the rest are started as new calls.
   */
  recover?(lost: LostState): Promise<Set<string>>;
}

export type { EndReason } from './call-end.js';

export interface CallServiceDeps {
  ari: AriClient;
  store: LiveCallStore;
  logger: Logger;
  /** This controller's id, written into each call it handles. */
  controllerId?: string;
  /** A call is over: keep its record (before its live state is removed). */
  onEnded?: (state: CallRecordState, reason: EndReason) => Promise<void>;
  /** What Asterisk kept about how a channel ended (its hangup handler), for a call found gone at reconcile. */
  endFacts?: (channelId: string) => Promise<Record<string, unknown> | undefined>;
}

export class CallService {
  private readonly calls = new Map<string, Call>();
  private readonly byChannel = new Map<string, string>();
  private readonly timers = new Map<string, Set<NodeJS.Timeout>>();
  private readonly queue: SerialQueue;
  private readonly ari: AriClient;
  private readonly logger: Logger;
  readonly store: LiveCallStore;
  /** This controller's id, written into each call it handles. */
  readonly controllerId: string;
  private routes: { flow: CallFlow; path: CallEventPath } | undefined;
  /** How a call's end goes to the domains, the record and the store. */
  private readonly ending: CallEnd;
  /** Reconcile after every connect; events wait for it. */
  private readonly reconciler: Reconciler;

  /** The core of the controller: built first, so every domain can use it; `route` starts it. */
  constructor(deps: CallServiceDeps) {
    this.ari = deps.ari;
    this.store = deps.store;
    this.logger = deps.logger;
    this.controllerId = deps.controllerId ?? '';
    this.queue = new SerialQueue((callId, err) =>
      this.logger.error({ event: LogEvent.callTaskFailed, callId, err }, 'call task failed'),
    );
    this.ending = new CallEnd({ store: deps.store, path: () => this.routed.path, onEnded: deps.onEnded });
    this.reconciler = new Reconciler({
      ari: deps.ari,
      store: deps.store,
      logger: deps.logger,
      endFacts: deps.endFacts,
      ending: this.ending,
      calls: this.calls,
      flow: () => this.routed.flow,
      track: (state) => this.track(state),
      forget: (callId, channelId, legs) => this.forget(callId, channelId, legs),
      push: (callId, task) => void this.queue.push(callId, task),
      begin: (channel, did, outbound) => this.begin(channel, did, outbound),
    });
  }

  /**
   * Once the domains exist: calls begin and resume through the flow, their events and ends go
   * along the path. Only now does the service listen to ARI (before, no call could be routed).
   */
  route(flow: CallFlow, path: CallEventPath): void {
    if (this.routes) throw new Error('the calls domain is routed once');
    this.routes = { flow, path };
    this.reconciler.start();
    this.ari.on('event', (event: AriEvent) => {
      // Events that arrive while we reconcile wait for it, then run in order.
      this.reconciler.afterReconcile(() => this.dispatch(event));
    });
  }

  /** How a domain hands a call back to its flow (the ACD, when a caller leaves a queue). */
  get handoffs(): CallHandoffs {
    return this.routed.path.handoffs;
  }

  private get routed(): { flow: CallFlow; path: CallEventPath } {
    if (!this.routes) throw new Error('the calls domain is not routed yet');
    return this.routes;
  }

  /** True once the calls found at the last connect have been picked up. */
  get ready(): boolean {
    return this.reconciler.ready;
  }

  get liveCount(): number {
    return this.calls.size;
  }

  private dispatch(event: AriEvent): void {
    if (event.type === 'StasisStart' && event.channel) {
      const channel = event.channel;
      const args = (event.args as string[] | undefined) ?? [];
      if (args[0] === 'inbound' || args[0] === 'outbound') {
        // Claimed now, not when begin runs: ws can hand us the StasisStart and the next event
        // (a hang-up at once) in one go, and that event must queue behind begin, not be dropped.
        this.byChannel.set(channel.id, channel.id);
      }
      if (args[0] === 'inbound') {
        void this.queue.push(channel.id, () => this.begin(channel, args[1] ?? channel.dialplan.exten));
        return;
      }
      if (args[0] === 'outbound') {
        // The dialer reached a citizen: a call of its own, from the hotline's number to theirs.
        void this.queue.push(channel.id, () =>
          this.begin(channel, channel.caller.number, { kind: 'outbound', caller: args[2] ?? '', dialerTask: args[1] }),
        );
        return;
      }
      // Legs we originate belong to the call that made them (attached before the originate).
      // Any other first argument (a desk phone's `feature` code) is not a call: its domain
      // listens to ARI itself, and no channel of it is ever attached here.
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
      await this.routed.path.onEvent(call, event);
    });
  }

  private async begin(
    channel: AriChannel,
    did: string,
    outbound?: { kind: 'outbound'; caller: string; dialerTask?: string },
  ): Promise<void> {
    // Reconcile may have begun it already (its StasisStart came while we reconciled).
    if (this.calls.has(channel.id)) return;
    const startedAt = new Date().toISOString();
    const state: CallRecordState = {
      callId: channel.id,
      channelId: channel.id,
      did,
      caller: outbound?.caller ?? channel.caller.number,
      startedAt,
      events: [{ at: startedAt, type: outbound ? 'answered-by-citizen' : 'entered', did }],
      asteriskStartup: this.reconciler.asteriskStartup,
      flow: outbound?.dialerTask ? { dialerTask: outbound.dialerTask } : {},
      ...(outbound ? { kind: outbound.kind } : {}),
    };
    const call = this.track(state);
    await this.store.save(state);
    call.log.info({ event: LogEvent.callEntered, did, caller: state.caller }, 'call entered');
    await this.routed.flow.start(call);
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
    const call = this.track({ ...state, asteriskStartup: this.reconciler.asteriskStartup });
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
        try {
          resolve(await task(call));
        } catch (err) {
          reject(err);
        }
      });
      if (!queued) reject(new RexianError('REXIAN_NOT_FOUND', { callId }, `no live call ${callId} on this controller`));
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
      const timer = setTimeout(() => {
        this.timers.get(callId)?.delete(timer);
        run();
      }, delayMs);
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
    await this.ending.closeOut(call, reason);
    call.log.info({ event: LogEvent.callEnded, reason, did: call.state.did }, 'call ended');
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
    this.reconciler.stop();
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
