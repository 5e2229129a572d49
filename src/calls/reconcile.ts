// Reconcile with Asterisk, which is the truth about what still exists, after every (re)connect
// of the calls domain (service.ts) and whenever Redis is found to have lost this switch's data
// under us. It detects an Asterisk restart, closes out calls that ended while we were away,
// resumes the ones still in our Stasis app and has the flow rebuild those whose saved state is
// gone. Each call is taken on its own: one that cannot be closed out or resumed is logged and
// the others go on, so one bad call can never keep the controller from becoming ready; a
// reconcile that fails as a whole (Redis or ARI down) is tried again with capped backoff.
// It reaches the service only through ReconcileHost, so the two files never import each other.
import type { Logger } from 'pino';

import { type AriBridge, type AriChannel, type AriClient, isInApp } from '../asterisk/ari.js';
import { backoffDelay } from '../asterisk/backoff.js';
import { LogEvent } from '../events/log-events.js';
import { Call, type CallRecordState } from './call.js';
import type { CallEnd, EndReason } from './call-end.js';
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

/** What reconcile asks of the flow (the service's CallFlow). */
export interface ReconcileFlow {
  resume(call: Call): Promise<void>;
  recover?(lost: LostState): Promise<Set<string>>;
}

/** What reconcile needs of the calls domain: its clients, its live calls and its per-call queue. */
export interface ReconcileHost {
  ari: AriClient;
  store: LiveCallStore;
  logger: Logger;
  /** What Asterisk kept about how a channel ended (its hangup handler), for a call found gone. */
  endFacts?: (channelId: string) => Promise<Record<string, unknown> | undefined>;
  ending: Pick<CallEnd, 'closeOut'>;
  /** The live calls the service holds, by call id. */
  calls: ReadonlyMap<string, Call>;
  /** The flow calls begin and resume through (the service is routed by the time we reconcile). */
  flow(): ReconcileFlow;
  /** Makes a saved call live on this controller. */
  track(state: CallRecordState): Call;
  /** Drops a call from memory: its channels and timers. */
  forget(callId: string, channelId: string, legs?: string[]): void;
  /** Runs work in a call's order. */
  push(callId: string, task: () => Promise<void>): void;
  /** Begins a call found in our app with no saved state, as if its StasisStart had just come. */
  begin(
    channel: AriChannel,
    did: string,
    outbound?: { kind: 'outbound'; caller: string; dialerTask?: string },
  ): Promise<void>;
}

/** Retries of a failed reconcile: 0.5 s, 1 s, 2 s … up to 30 s. */
const RECONCILE_BACKOFF = { baseMs: 500, maxMs: 30_000 };

export class Reconciler {
  private reconciling: Promise<void> = Promise.resolve();
  private reconciled = false;
  /** Counts connects: a reconcile retry of an older connection gives way to the newer one. */
  private connection = 0;
  private startup = '';
  private checkingStore = false;
  /** Every 5 s: did Redis lose this switch's data under us (a flush, a failover) while we ran? */
  private storeWatch: NodeJS.Timeout | undefined;

  constructor(private readonly host: ReconcileHost) {}

  /** The startup time of the Asterisk run found at the last reconcile (written into each call). */
  get asteriskStartup(): string {
    return this.startup;
  }

  /** True once the calls found at the last connect have been picked up. */
  get ready(): boolean {
    return this.reconciled && this.host.ari.connected;
  }

  /** Reconciles at every connect and starts the store watch. */
  start(): void {
    this.host.ari.on('connected', () => {
      this.reconciled = false;
      const connection = ++this.connection;
      // After the previous reconcile (if any), never two at once.
      this.reconciling = this.reconciling.then(() => this.reconcileUntilDone(connection));
    });
    this.host.ari.on('disconnected', () => {
      this.reconciled = false;
    });
    this.storeWatch = setInterval(() => void this.checkStore(), 5000).unref();
  }

  /** Runs work once the reconcile under way (if any) is done: events that arrive meanwhile wait for it. */
  afterReconcile(task: () => void): void {
    void this.reconciling.then(task);
  }

  stop(): void {
    if (this.storeWatch) clearInterval(this.storeWatch);
  }

  /**
   * Reconciles until it succeeds, backing off between tries; gives way when the connection it
   * serves is gone (the next connect reconciles afresh).
   */
  private async reconcileUntilDone(connection: number): Promise<void> {
    for (let attempt = 0; connection === this.connection && this.host.ari.connected; attempt++) {
      try {
        await this.reconcile();
        if (connection === this.connection) this.reconciled = true;
        return;
      } catch (err) {
        const retryInMs = backoffDelay(attempt, RECONCILE_BACKOFF);
        this.host.logger.error(
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
    const { ari, store, logger, calls } = this.host;
    const info = await ari.info();
    this.startup = info.status.startup_time;
    const previousStartup = await store.asteriskStartup();
    const restarted = previousStartup !== null && previousStartup !== this.startup;
    if (restarted)
      logger.warn(
        { event: LogEvent.callsLostAsteriskRestarted, previousStartup, startup: this.startup },
        'Asterisk restarted: calls it carried are lost',
      );
    await store.setAsteriskStartup(this.startup);

    const all = await ari.channels();
    const channels = new Map(all.filter((c) => isInApp(c, ari.app)).map((c) => [c.id, c]));
    const known = new Set<string>();
    const counts = { resumed: 0, closedOut: 0, failed: 0, rebuiltChannels: 0, restartedFlows: 0 };
    for (const callId of await store.liveCallIds()) {
      known.add(callId); // a citizen's call id is its channel id: never taken for a lost call
      try {
        const outcome = await this.reconcileCall(callId, channels, restarted, known);
        if (outcome === 'resumed') counts.resumed += 1;
        else if (outcome === 'closed-out') counts.closedOut += 1;
      } catch (err) {
        counts.failed += 1;
        logger.error({ err, callId }, 'could not reconcile this call; left as it is, the others go on');
      }
    }

    const lost = [...channels.values()].filter((c) => !known.has(c.id));
    let taken = new Set<string>();
    const flow = this.host.flow();
    if (flow.recover && (lost.length > 0 || previousStartup === null)) {
      try {
        taken = await flow.recover({
          channels: lost,
          all,
          bridges: lost.length > 0 ? await ari.bridges() : [],
          storeEmpty: previousStartup === null,
        });
        counts.rebuiltChannels = taken.size;
      } catch (err) {
        logger.error({ err }, 'could not rebuild calls from Asterisk; their channels are treated as new calls');
      }
    }
    for (const channel of lost) {
      if (taken.has(channel.id)) continue;
      if (calls.has(channel.id)) continue; // held in memory (Redis lost it while we ran): goes on as it is
      const args = (channel.dialplan.app_data ?? '').split(',');
      const log = { callId: channel.id, channelId: channel.id, did: args[2] ?? channel.dialplan.exten };
      // A citizen in our app in no bridge of ours and with no saved state was in the IVR
      // (or had just entered): where it was in its flow is lost, so the flow starts again.
      if (args[1] === 'inbound') {
        logger.warn(
          { ...log, rebuilt: 'flow restarted' },
          'no saved state for a call in the IVR; its flow starts again from the top',
        );
        counts.restartedFlows += 1;
        this.host.push(channel.id, () => this.host.begin(channel, args[2] ?? channel.dialplan.exten));
      } else if (args[1] === 'outbound') {
        // A citizen the dialer reached while no controller was connected, or whose state was lost.
        logger.warn(
          { ...log, rebuilt: 'flow restarted' },
          'no saved state for a dialer call; its flow starts again from the top',
        );
        counts.restartedFlows += 1;
        this.host.push(channel.id, () =>
          this.host.begin(channel, channel.caller.number, {
            kind: 'outbound',
            caller: args[3] ?? '',
            dialerTask: args[2],
          }),
        );
      }
    }
    logger.info({ ...counts, live: calls.size, asteriskStartup: this.startup }, 'reconciled with Asterisk');
  }

  /** One saved call at reconcile: closed out if its channel is gone, else resumed. */
  private async reconcileCall(
    callId: string,
    channels: Map<string, AriChannel>,
    restarted: boolean,
    known: Set<string>,
  ): Promise<'resumed' | 'closed-out' | 'none'> {
    const { ari, store, logger, calls } = this.host;
    const state = await store.load(callId);
    if (!state) {
      await store.remove(callId);
      return 'none';
    }
    known.add(state.channelId);
    for (const leg of state.legs ?? []) known.add(leg);
    const channel = channels.get(state.channelId);
    if (!channel || state.asteriskStartup !== this.startup) {
      const reason: EndReason = restarted ? 'asterisk-restarted' : 'ended-while-away';
      const gone = calls.get(callId);
      this.host.forget(callId, state.channelId, state.legs);
      const ended = gone ?? new Call(state, ari, store, logger, () => {});
      // When and how it really ended (not when we noticed): the clean-up and the record use it.
      const facts = await this.host.endFacts?.(state.channelId).catch(() => undefined);
      if (facts) ended.state.flow.asteriskEnd = facts;
      const kept = await this.host.ending.closeOut(ended, reason);
      logger.warn(
        { event: LogEvent.callClosedOut, callId, channelId: state.channelId, reason, recordKept: kept },
        'call closed out at reconcile',
      );
      return 'closed-out';
    }
    const call = calls.get(callId) ?? this.host.track(state);
    await store.save(call.state); // now ours
    this.host.push(callId, async () => {
      call.log.info({ event: LogEvent.callPickedUp, step: call.flow.step }, 'call picked up after reconnect');
      await this.host.flow().resume(call);
    });
    return 'resumed';
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
    const { store, logger, calls } = this.host;
    this.checkingStore = true;
    try {
      if ((await store.asteriskStartup()) !== null) return;
      logger.warn(
        { event: LogEvent.callsRebuildAfterRedisLoss, live: calls.size },
        "Redis lost this switch's saved state while the controller ran: rebuilding from Asterisk as after a reconnect",
      );
      this.reconciled = false;
      const connection = this.connection;
      this.reconciling = this.reconciling.then(() => this.reconcileUntilDone(connection));
      await this.reconciling;
      for (const call of [...calls.values()]) if (!(await store.load(call.id))) await store.save(call.state);
    } catch (err) {
      // Redis down is reported by /readyz and by whatever needed it; not a loss, and not to flood the log.
      logger.debug({ err: (err as Error).message }, 'could not check Redis for lost state; checked again in 5 s');
    } finally {
      this.checkingStore = false;
    }
  }
}
