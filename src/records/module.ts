// The records domain's parts beyond the writer: how a call's record is kept as it ends (with
// Asterisk's own end facts when the controller was away), the collector of calls the dialplan
// fallback served, and the dead letters ops can replay (their routes are in routes.ts).
import type pg from 'pg';
import type { Logger } from 'pino';

import type { AmiClient } from '../asterisk/ami.js';
import type { CallRecordState } from '../calls/call.js';
import { isMasked, type PrivacyPolicy } from '../calls/privacy.js';
import { LogEvent } from '../events/log-events.js';
import type { Redis } from '../store/redis.js';
import { AsteriskDb, EndFactsReader } from './asterisk-facts.js';
import { DeadLetters } from './dead-letters.js';
import {
  type AsteriskEnd,
  asteriskEndOf,
  type BuildRecord,
  FallbackCollector,
  recordAtEnd,
  toAsteriskEnd,
} from './fallback.js';
import type { RecordOutbox } from './outbox.js';

export interface RecordsDeps {
  redis: Redis;
  pool: pg.Pool;
  outbox: RecordOutbox;
  ami: AmiClient;
  logger: Logger;
  /** buildCallRecord with the server's policies (a call's record from its live state). */
  build: BuildRecord;
  /** Whether a call's live state is still kept (reconcile will close it out). */
  isLive: (callId: string) => Promise<boolean>;
  /** The general queue's short-abandon threshold, for fallback calls. */
  shortAbandonMs: () => number;
  privacy: PrivacyPolicy;
  collectEveryMs?: number;
}

export interface RecordsDomain {
  /** A call is over: its record goes to the outbox (CallService's onEnded). */
  onEnded(state: CallRecordState, reason: string): Promise<void>;
  /** What Asterisk kept about a call's end, for CallService to close it out with (its endFacts). */
  endFacts(channelId: string): Promise<AsteriskEnd | undefined>;
  deadLetters: DeadLetters;
  collector: FallbackCollector;
  start(): void;
  stop(): void;
}

export function recordsDomain(deps: RecordsDeps): RecordsDomain {
  const db = new AsteriskDb(deps.ami);
  const endFacts = new EndFactsReader(db, deps.logger);
  const collector = new FallbackCollector({
    db,
    outbox: deps.outbox,
    logger: deps.logger,
    isLive: deps.isLive,
    shortAbandonMs: deps.shortAbandonMs,
    intervalMs: deps.collectEveryMs,
    masked: (did) => isMasked({ did, flow: {} }, deps.privacy),
  });
  return {
    async onEnded(state, reason) {
      const record = recordAtEnd(state, reason, deps.build);
      await deps.outbox.add(record);
      const end = reason === 'hangup' ? undefined : asteriskEndOf(state);
      if (end) {
        deps.logger.info(
          {
            event: LogEvent.recordEndFromAsterisk,
            callId: state.callId,
            channelId: state.channelId,
            endedAt: record.endedAt,
            hangupSide: record.hangupSide,
            cause: end.cause,
          },
          'call that ended while no controller ran: end taken from Asterisk',
        );
        await endFacts.forget(state.channelId);
      }
    },
    async endFacts(channelId) {
      const facts = await endFacts.read(channelId);
      return facts ? toAsteriskEnd(facts) : undefined;
    },
    deadLetters: new DeadLetters(deps.redis, deps.outbox, deps.pool),
    collector,
    start: () => collector.start(deps.ami),
    stop: () => collector.stop(deps.ami),
  };
}
