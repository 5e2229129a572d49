// The calls domain: turns ARI events into Call objects, starts and resumes them through the
// flow, hands each call's events and its end to the event path (event-path.ts: the named order
// in which domains see them), and after every (re)connect reconciles with Asterisk, which is
// the truth about what still exists. Channels in our app that are not calls (a desk phone's
// feature code: first argument `feature`) are never begun, routed nor hung up here.
// Reconcile takes each call on its own: one that cannot be closed out or resumed is logged
// and the others go on, so one bad call can never keep the controller from becoming ready;
// a reconcile that fails as a whole (Redis or ARI down) is tried again with capped backoff.
import type { Logger } from 'pino';

import { type AriBridge, type AriChannel, type AriClient, type AriEvent, isInApp } from '../asterisk/ari.js';
import { backoffDelay } from '../asterisk/backoff.js';
import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import { Call, type CallRecordState, type LegRole } from './call.js';
import { CallEnd, type EndReason } from './call-end.js';
import type { CallEventPath, CallHandoffs } from './event-path.js';
import { SerialQueue } from './serial-queue.js';
import type { LiveCallStore } from './store.js';

/** What Redis no longer knows but Asterisk still carries (after Redis lost its data). */
export interface LostState {
  /** Channels in our Stasis app with no saved state: neither a call nor a leg of one. */
  channels: AriChannel[];
  /** Every channel Asterisk has, in our app or not (an agent leg still ringing is not). */
  all: AriChannel[];
  /** Every bridge in Asterisk, with its channels (holding and talk bridges have our ids). */
  bridges: AriBridge[];
  /** Redis had no record of this switch at all: it lost its data, or this is the first start. */
  storeEmpty: boolean;
}

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

/** Retries of a failed reconcile: 0.5 s, 1 s, 2 s … up to 30 s. */
const RECONCILE_BACKOFF = { baseMs: 500, maxMs: 30_000 };

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
  private reconciling: Promise<void> = Promise.resolve();
  private reconciled = false;
  /** Counts connects: a reconcile retry of an older connection gives way to the newer one. */
  private connection = 0;
  private asteriskStartup = '';
  private checkingStore = false;
  /** Every 5 s: did Redis lose this switch's data under us (a flush, a failover) while we ran? */
  private storeWatch: NodeJS.Timeout | undefined;

  /** The core of the controller: built first, so every domain can use it; `route` starts it. */
  constructor(private readonly deps: CallServiceDeps) {
    this.ari = deps.ari;
    this.store = deps.store;
    this.logger = deps.logger;
    this.controllerId = deps.controllerId ?? '';
    this.queue = new SerialQueue((callId, err) =>
      this.logger.error({ event: LogEvent.callTaskFailed, callId, err }, 'call task failed'),
    );
    this.ending = new CallEnd({ store: deps.store, path: () => this.routed.path, onEnded: deps.onEnded });
  }

  /**
   * Once the domains exist: calls begin and resume through the flow, their events and ends go
   * along the path. Only now does the service listen to ARI (before, no call could be routed).
   */
  route(flow: CallFlow, path: CallEventPath): void {
    if (this.routes) throw new Error('the calls domain is routed once');
    this.routes = { flow, path };
    this.ari.on('connected', () => {
      this.reconciled = false;
      const connection = ++this.connection;
      // After the previous reconcile (if any), never two at once.
      this.reconciling = this.reconciling.then(() => this.reconcileUntilDone(connection));
    });
    this.ari.on('disconnected', () => {
      this.reconciled = false;
    });
    this.storeWatch = setInterval(() => void this.checkStore(), 5000).unref();
    this.ari.on('event', (event: AriEvent) => {
      // Events that arrive while we reconcile wait for it, then run in order.
      void this.reconciling.then(() => this.dispatch(event));
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
    return this.reconciled && this.ari.connected;
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
      asteriskStartup: this.asteriskStartup,
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

  /**
   * Reconciles until it succeeds, backing off between tries; gives way when the connection it
   * serves is gone (the next connect reconciles afresh).
   */
  private async reconcileUntilDone(connection: number): Promise<void> {
    for (let attempt = 0; connection === this.connection && this.ari.connected; attempt++) {
      try {
        await this.reconcile();
        if (connection === this.connection) this.reconciled = true;
        return;
      } catch (err) {
        const retryInMs = backoffDelay(attempt, RECONCILE_BACKOFF);
        this.logger.error(
          { event: LogEvent.callReconcileFailed, err, attempt: attempt + 1, retryInMs },
          'reconcile failed; trying again after a pause',
        );
        await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
      }
    }
  }

  /**
   * After every connect: detect an Asterisk restart (its startup time changed: every call
   * we knew is gone), close out calls that ended while we were away, resume the ones still in
   * our Stasis app, and rebuild from Asterisk the calls whose saved state Redis lost. A call
   * that fails here is logged and left; it does not stop the others.
   */
  private async reconcile(): Promise<void> {
    const info = await this.ari.info();
    this.asteriskStartup = info.status.startup_time;
    const previousStartup = await this.store.asteriskStartup();
    const restarted = previousStartup !== null && previousStartup !== this.asteriskStartup;
    if (restarted)
      this.logger.warn(
        { event: LogEvent.callsLostAsteriskRestarted, previousStartup, startup: this.asteriskStartup },
        'Asterisk restarted: calls it carried are lost',
      );
    await this.store.setAsteriskStartup(this.asteriskStartup);

    const all = await this.ari.channels();
    const channels = new Map(all.filter((c) => isInApp(c, this.ari.app)).map((c) => [c.id, c]));
    const known = new Set<string>();
    const counts = { resumed: 0, closedOut: 0, failed: 0, rebuiltChannels: 0, restartedFlows: 0 };
    for (const callId of await this.store.liveCallIds()) {
      known.add(callId); // a citizen's call id is its channel id: never taken for a lost call
      try {
        const outcome = await this.reconcileCall(callId, channels, restarted, known);
        if (outcome === 'resumed') counts.resumed += 1;
        else if (outcome === 'closed-out') counts.closedOut += 1;
      } catch (err) {
        counts.failed += 1;
        this.logger.error({ err, callId }, 'could not reconcile this call; left as it is, the others go on');
      }
    }

    const lost = [...channels.values()].filter((c) => !known.has(c.id));
    let taken = new Set<string>();
    const { flow } = this.routed;
    if (flow.recover && (lost.length > 0 || previousStartup === null)) {
      try {
        taken = await flow.recover({
          channels: lost,
          all,
          bridges: lost.length > 0 ? await this.ari.bridges() : [],
          storeEmpty: previousStartup === null,
        });
        counts.rebuiltChannels = taken.size;
      } catch (err) {
        this.logger.error({ err }, 'could not rebuild calls from Asterisk; their channels are treated as new calls');
      }
    }
    for (const channel of lost) {
      if (taken.has(channel.id)) continue;
      if (this.calls.has(channel.id)) continue; // held in memory (Redis lost it while we ran): goes on as it is
      const args = (channel.dialplan.app_data ?? '').split(',');
      const log = { callId: channel.id, channelId: channel.id, did: args[2] ?? channel.dialplan.exten };
      // A citizen in our app in no bridge of ours and with no saved state was in the IVR
      // (or had just entered): where it was in its flow is lost, so the flow starts again.
      if (args[1] === 'inbound') {
        this.logger.warn(
          { ...log, rebuilt: 'flow restarted' },
          'no saved state for a call in the IVR; its flow starts again from the top',
        );
        counts.restartedFlows += 1;
        void this.queue.push(channel.id, () => this.begin(channel, args[2] ?? channel.dialplan.exten));
      } else if (args[1] === 'outbound') {
        // A citizen the dialer reached while no controller was connected, or whose state was lost.
        this.logger.warn(
          { ...log, rebuilt: 'flow restarted' },
          'no saved state for a dialer call; its flow starts again from the top',
        );
        counts.restartedFlows += 1;
        void this.queue.push(channel.id, () =>
          this.begin(channel, channel.caller.number, { kind: 'outbound', caller: args[3] ?? '', dialerTask: args[2] }),
        );
      }
    }
    this.logger.info(
      { ...counts, live: this.calls.size, asteriskStartup: this.asteriskStartup },
      'reconciled with Asterisk',
    );
  }

  /** One saved call at reconcile: closed out if its channel is gone, else resumed. */
  private async reconcileCall(
    callId: string,
    channels: Map<string, AriChannel>,
    restarted: boolean,
    known: Set<string>,
  ): Promise<'resumed' | 'closed-out' | 'none'> {
    const state = await this.store.load(callId);
    if (!state) {
      await this.store.remove(callId);
      return 'none';
    }
    known.add(state.channelId);
    for (const leg of state.legs ?? []) known.add(leg);
    const channel = channels.get(state.channelId);
    if (!channel || state.asteriskStartup !== this.asteriskStartup) {
      const reason: EndReason = restarted ? 'asterisk-restarted' : 'ended-while-away';
      const gone = this.calls.get(callId);
      this.forget(callId, state.channelId, state.legs);
      const ended = gone ?? new Call(state, this.ari, this.store, this.logger, () => {});
      // When and how it really ended (not when we noticed): the clean-up and the record use it.
      const facts = await this.deps.endFacts?.(state.channelId).catch(() => undefined);
      if (facts) ended.state.flow.asteriskEnd = facts;
      const kept = await this.ending.closeOut(ended, reason);
      this.logger.warn(
        { event: LogEvent.callClosedOut, callId, channelId: state.channelId, reason, recordKept: kept },
        'call closed out at reconcile',
      );
      return 'closed-out';
    }
    const call = this.calls.get(callId) ?? this.track(state);
    await this.store.save(call.state); // now ours
    void this.queue.push(callId, async () => {
      call.log.info({ event: LogEvent.callPickedUp, step: call.flow.step }, 'call picked up after reconnect');
      await this.routed.flow.resume(call);
    });
    return 'resumed';
  }

  private forget(callId: string, channelId: string, legs: string[] = []): void {
    this.calls.delete(callId);
    this.byChannel.delete(channelId);
    for (const leg of legs) if (this.byChannel.get(leg) === callId) this.byChannel.delete(leg);
    for (const timer of this.timers.get(callId) ?? []) clearTimeout(timer);
    this.timers.delete(callId);
  }

  /**
   * The sentinel: reconcile writes this switch's startup key; if it has vanished while we are
   * connected, Redis lost its data under us, and nothing else would notice until the next
   * reconnect. Run the same reconcile (it rebuilds from Asterisk), once: it writes the key again.
   * Calls held in memory that the rebuild did not take (a caller in the IVR) have their whole
   * state here: it is saved again, and their flow goes on rather than starting over.
   */
  private async checkStore(): Promise<void> {
    if (!this.ready || this.checkingStore) return;
    this.checkingStore = true;
    try {
      if ((await this.store.asteriskStartup()) !== null) return;
      this.logger.warn(
        { event: LogEvent.callsRebuildAfterRedisLoss, live: this.calls.size },
        "Redis lost this switch's saved state while the controller ran: rebuilding from Asterisk as after a reconnect",
      );
      this.reconciled = false;
      const connection = this.connection;
      this.reconciling = this.reconciling.then(() => this.reconcileUntilDone(connection));
      await this.reconciling;
      for (const call of [...this.calls.values()])
        if (!(await this.store.load(call.id))) await this.store.save(call.state);
    } catch (err) {
      // Redis down is reported by /readyz and by whatever needed it; not a loss, and not to flood the log.
      this.logger.debug({ err: (err as Error).message }, 'could not check Redis for lost state; checked again in 5 s');
    } finally {
      this.checkingStore = false;
    }
  }

  /** Stops all timers (at shutdown; the next process re-arms them from saved state). */
  stopTimers(): void {
    if (this.storeWatch) clearInterval(this.storeWatch);
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
