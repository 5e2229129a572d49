// Records of what the controller did not see: calls the dialplan fallback served while no
// controller was connected (app_queue, rexian-fallback), and the true end of calls that
// ended while the controller was away. Both come from what Asterisk kept in its AstDB
// (see asterisk-facts.ts).
//
// A fallback call is marked servedBy 'fallback' (column served_by, migration 004). Its call
// id is Asterisk's uniqueid, which is also the ARI channel id a controller would have used,
// and the dialplan writes a fallback entry only for a call whose Stasis() failed, so a call
// a controller had never gets a second row. Read on every AMI (re)connect and every
// intervalMs while connected; several controllers reading at once write one row (the call
// id is the table's key).
import type { Logger } from 'pino';

import { lineName } from '../acd/screen-pop.js';
import type { CallRecordState } from '../calls/call.js';
import { maskNumber } from '../calls/privacy.js';
import {
  type AsteriskDb,
  ENDED_FAMILY,
  type EndFacts,
  FALLBACK_FAMILY,
  type FallbackFacts,
  parseFallbackFacts,
} from './asterisk-facts.js';
import type { CallRecord } from './call-record.js';
import type { RecordOutbox } from './outbox.js';
import type { StoredRecord } from './record-rows.js';

/** The name of the native queue in sip-config/queues.conf. */
export const FALLBACK_QUEUE = 'rexian-fallback';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** masked: the line's callers are masked (a virtual number): the record keeps the masked form only. */
export function fallbackRecord(f: FallbackFacts, shortAbandonMs: number, masked = false): StoredRecord {
  const caller = masked ? maskNumber(f.caller) : f.caller;
  const queued = f.queuedAt !== null;
  const answered = f.answeredAt !== null;
  const waitMs = queued ? Math.max(0, (f.answeredAt ?? f.endedAt).getTime() - f.queuedAt!.getTime()) : null;
  const abandoned = queued && !answered && f.side === 'citizen';
  const ended = f.endedAt.toISOString();
  return {
    callId: f.callId,
    direction: 'inbound',
    did: f.did,
    line: lineName(f.did),
    caller,
    callerMasked: masked,
    startedAt: f.startedAt.toISOString(),
    endedAt: ended,
    endReason: 'hangup',
    flowId: null,
    flowVersion: null,
    ivrPath: [],
    digits: {},
    queue: queued ? FALLBACK_QUEUE : null,
    originQueue: queued ? FALLBACK_QUEUE : null,
    enteredQueueAt: iso(f.queuedAt),
    waitMs,
    answered,
    answeredAt: iso(f.answeredAt),
    abandoned,
    shortAbandon: abandoned && waitMs !== null && waitMs < shortAbandonMs,
    agentId: f.agentId,
    agents: f.agentId ? [f.agentId] : [],
    talkMs: answered ? Math.max(0, f.endedAt.getTime() - f.answeredAt!.getTime()) : null,
    holdMs: answered ? 0 : null,
    transfers: 0,
    windowId: null,
    emergency: null,
    survey: null,
    recordings: [],
    maskingBinding: null,
    hangupSide: f.side,
    legs: [
      {
        channelId: f.callId,
        role: 'citizen',
        party: caller,
        dialledAt: f.startedAt.toISOString(),
        answeredAt: f.startedAt.toISOString(),
        endedAt: ended,
        cause: f.cause === null ? null : String(f.cause),
      },
    ],
    events: [
      { at: f.startedAt.toISOString(), type: 'entered', did: f.did },
      ...(queued ? [{ at: f.queuedAt!.toISOString(), type: 'queued', queue: FALLBACK_QUEUE }] : []),
      ...(answered ? [{ at: f.answeredAt!.toISOString(), type: 'answered', agentId: f.agentId }] : []),
      { at: ended, type: 'ended', reason: 'hangup', side: f.side, cause: f.cause },
    ],
    servedBy: 'fallback',
  };
}

/** Asterisk's end of a call that ended while no controller ran, as kept on the call's state. */
export type AsteriskEnd = {
  endedAt: string;
  cause: number | null;
  side: EndFacts['side'];
};

/** The facts CallService puts on a call it closes out at reconcile (state.flow.asteriskEnd). */
export function asteriskEndOf(state: CallRecordState): AsteriskEnd | undefined {
  const end = state.flow.asteriskEnd as AsteriskEnd | undefined;
  return end && typeof end.endedAt === 'string' && Number.isFinite(Date.parse(end.endedAt)) ? end : undefined;
}

export function toAsteriskEnd(facts: EndFacts): AsteriskEnd {
  // Never later than now (one machine's clock, but a skewed one must not end a call in the future).
  return {
    endedAt: new Date(Math.min(Date.now(), facts.endedAt.getTime())).toISOString(),
    cause: facts.cause,
    side: facts.side,
  };
}

export type BuildRecord = (state: CallRecordState, endedAt: Date, reason: string) => CallRecord;

/**
 * The record of a call as it ends. A call closed out at reconcile (the controller was away)
 * carries Asterisk's end: endedAt is when the channel really went away and the hangup side
 * who really hung up (call-record.ts reads it), and wait, talk and a running hold end there
 * too (buildCallRecord computes them up to endedAt). Otherwise the end is now.
 */
export function recordAtEnd(state: CallRecordState, reason: string, build: BuildRecord): CallRecord {
  const end = reason === 'hangup' ? undefined : asteriskEndOf(state);
  if (!end) return build(state, new Date(), reason);
  return build(state, new Date(Math.max(Date.parse(end.endedAt), Date.parse(state.startedAt) || 0)), reason);
}

export interface FallbackCollectorOptions {
  db: AsteriskDb;
  outbox: RecordOutbox;
  logger: Logger;
  /** Whether a call's live state is still kept (its end facts are still needed by reconcile). */
  isLive: (callId: string) => Promise<boolean>;
  shortAbandonMs: () => number;
  /** Whether a line's callers are masked (a virtual number). */
  masked: (did: string) => boolean;
  intervalMs?: number;
}

export class FallbackCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly onConnected = (): void => void this.collect();

  constructor(private readonly o: FallbackCollectorOptions) {}

  /** Collects at once if AMI is up, on every AMI (re)connect, and every intervalMs. */
  start(ami: { on(event: 'connected', f: () => void): unknown }): void {
    ami.on('connected', this.onConnected);
    this.timer = setInterval(() => void this.collect(), this.o.intervalMs ?? 15_000);
    this.timer.unref();
    if (this.o.db.connected) void this.collect();
  }

  stop(ami: { off(event: 'connected', f: () => void): unknown }): void {
    ami.off('connected', this.onConnected);
    clearInterval(this.timer);
  }

  /** One pass (never two at once); resolves when done. */
  collect(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (!this.o.db.connected) return;
    const log = this.o.logger;
    try {
      for (const [callId, value] of await this.o.db.list(FALLBACK_FAMILY)) {
        const facts = parseFallbackFacts(callId, value);
        if (facts) {
          await this.o.outbox.add(fallbackRecord(facts, this.o.shortAbandonMs(), this.o.masked(facts.did)));
          log.info(
            { callId, did: facts.did, answered: facts.answeredAt !== null, agentId: facts.agentId, side: facts.side },
            'call served by the dialplan fallback recorded',
          );
        } else {
          log.error({ callId, value }, 'unreadable fallback call facts in AstDB; dropped');
        }
        await this.o.db.del(FALLBACK_FAMILY, callId);
      }
      // End facts of calls a controller closed normally (the handler writes one for every
      // call): dropped once the call's live state is gone, after a grace period so a
      // reconcile that is reading them is not raced.
      const now = Date.now();
      for (const [callId, value] of await this.o.db.list(ENDED_FAMILY)) {
        const end = Number(value.split('|')[1]) * 1000;
        if (Number.isFinite(end) && now - end < 60_000) continue;
        if (await this.o.isLive(callId)) continue;
        await this.o.db.del(ENDED_FAMILY, callId);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot read the calls Asterisk kept (AMI); trying again later');
    }
  }
}
