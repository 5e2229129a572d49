// Nothing lost: a finished call's record goes first into a Redis stream (the outbox), in the
// same step that ends the call, and a writer moves it into PostgreSQL. While PostgreSQL is
// down or slow the records wait in the stream; the writer retries with backoff and writes
// each exactly once (the call id is the primary key, and a record is acknowledged only after
// its row is in). Entries a crashed writer had read are taken over by a live one.
//
// Nothing blocks: what PostgreSQL cannot hold (NUL, lone surrogates) is repaired first; a
// batch PostgreSQL refuses for its data is retried record by record, and a record refused
// for its own data (SQLSTATE class 22 or 23) goes to the dead letters (<prefix>:records:dead)
// with the error, where ops can see it and replay it (routes.ts), while the rest flows. A
// stream that vanished (Redis flushed, a failover to an empty replica) gets its consumer
// group back at once. Logs say which side failed, Redis or PostgreSQL.
import type pg from 'pg';
import type { Logger } from 'pino';

import type { Redis } from '../store/redis.js';
import type { CallRecord } from './call-record.js';
import { migrate } from './migrate.js';
import { sanitizeRecord } from './sanitize.js';
import { ROLL_UP } from './sums.js';

const GROUP = 'writers';

/** A record as the outbox carries it: who served the call (a controller unless told). */
export type StoredRecord = CallRecord & { servedBy?: 'controller' | 'fallback' };
const COLUMNS = [
  'call_id',
  'direction',
  'did',
  'line',
  'caller',
  'caller_masked',
  'started_at',
  'ended_at',
  'end_reason',
  'flow_id',
  'flow_version',
  'ivr_path',
  'digits',
  'queue',
  'origin_queue',
  'entered_queue_at',
  'wait_ms',
  'answered',
  'answered_at',
  'abandoned',
  'short_abandon',
  'agent_id',
  'agents',
  'talk_ms',
  'hold_ms',
  'transfers',
  'window_id',
  'emergency',
  'survey',
  'recordings',
  'masking_binding',
  'hangup_side',
  'legs',
  'events',
  'served_by',
] as const;

function row(r: StoredRecord): unknown[] {
  return [
    r.callId,
    r.direction,
    r.did,
    r.line,
    r.caller,
    r.callerMasked,
    r.startedAt,
    r.endedAt,
    r.endReason,
    r.flowId,
    r.flowVersion,
    r.ivrPath,
    JSON.stringify(r.digits),
    r.queue,
    r.originQueue,
    r.enteredQueueAt,
    r.waitMs,
    r.answered,
    r.answeredAt,
    r.abandoned,
    r.shortAbandon,
    r.agentId,
    r.agents,
    r.talkMs,
    r.holdMs,
    r.transfers,
    r.windowId,
    r.emergency,
    r.survey,
    r.recordings,
    r.maskingBinding,
    r.hangupSide,
    // Records queued in the outbox by an older version have neither.
    JSON.stringify(r.legs ?? []),
    JSON.stringify(r.events ?? []),
    r.servedBy ?? 'controller',
  ];
}

/**
 * Inserts records and adds them to the daily roll-up; one already written (a replay) is skipped.
 * Returns how many were new.
 */
export async function insertRecords(pool: pg.Pool, records: StoredRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const values: unknown[] = [];
  const tuples = records.map((r) => {
    const base = values.length;
    values.push(...row(r));
    return `(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  // One statement: the rows that are new (a replay inserts none) go into the roll-up too.
  const res = await pool.query(
    `WITH source AS (
      INSERT INTO call_records (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (call_id) DO NOTHING RETURNING *
    ), rolled AS (${ROLL_UP})
    SELECT count(*) AS n FROM source`,
    values,
  );
  return Number((res.rows[0] as { n: string }).n);
}

export class RecordOutbox {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:records:outbox`;
  }

  /** Records PostgreSQL refused for their data, with the error (see DeadLetters). */
  get deadKey(): string {
    return `${this.prefix}:records:dead`;
  }

  async add(record: StoredRecord): Promise<void> {
    await this.redis.xadd(this.key, '*', 'record', JSON.stringify(record));
  }
}

/** Which side of the writer failed: it decides the log line and what to do next. */
export class WriterFailure extends Error {
  constructor(
    readonly side: 'redis' | 'postgres',
    readonly inner: Error,
  ) {
    super(inner.message);
  }
}

const onRedis = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: Error) => {
    throw new WriterFailure('redis', err);
  });
const onPostgres = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: Error) => {
    throw new WriterFailure('postgres', err);
  });

/**
 * Whether PostgreSQL refused a record for its own data (SQLSTATE class 22 data exception:
 * out of range, bad encoding, bad timestamp; class 23 integrity: a NOT NULL or CHECK), so
 * retrying it can never succeed. Anything else (08 connection, 57 shutdown, 53 resources,
 * 42 a schema not migrated …) is the system's fault: wait and retry.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}

/** The outbox's consumer group is gone (the stream was deleted, or Redis lost its data). */
export function isMissingGroup(err: unknown): boolean {
  return /NOGROUP|no such key/i.test((err as Error | null)?.message ?? '');
}

/** Creates a stream's consumer group (and the stream) unless it exists. */
export async function ensureGroup(redis: Redis, key: string, group: string): Promise<void> {
  await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM').catch((err: Error) => {
    if (!/BUSYGROUP/.test(err.message)) throw err;
  });
}

export interface WriterOptions {
  consumer: string;
  batch?: number;
  /** Longest pause between attempts while PostgreSQL is down. */
  maxBackoffMs?: number;
  migrationsDir: string;
  /** Whether the controller a consumer name belongs to is still alive. */
  isAlive: (consumer: string) => Promise<boolean>;
}

export class RecordWriter {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private reader: Redis | undefined;
  /** Records written since start (for logs and tests). */
  written = 0;
  private migrated = false;

  constructor(
    private readonly redis: Redis,
    private readonly outbox: RecordOutbox,
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    private readonly options: WriterOptions,
  ) {}

  async start(): Promise<void> {
    await ensureGroup(this.redis, this.outbox.key, GROUP);
    // A blocking read holds its connection: it gets one of its own.
    this.reader = this.redis.duplicate();
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reader?.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let backoff = 250;
    // First what this consumer had claimed before a restart, then new entries.
    let cursor = '0';
    while (!this.stopped) {
      try {
        // The schema is brought up to date before the first write (PostgreSQL may be down at start).
        if (!this.migrated) {
          const applied = await onPostgres(migrate(this.pool, this.options.migrationsDir));
          this.migrated = true;
          if (applied.length > 0) this.logger.info({ applied }, 'database migrations applied');
        }
        const stolen = await onRedis(this.claimStale());
        const fresh = stolen.length > 0 ? stolen : await onRedis(this.read(cursor));
        if (fresh.length === 0 && cursor === '0') cursor = '>';
        if (fresh.length > 0) await this.write(fresh);
        backoff = 250;
      } catch (err) {
        if (this.stopped) return;
        cursor = '0'; // what we read and could not write is ours, pending: read it again
        const failure = err instanceof WriterFailure ? err : new WriterFailure('redis', err as Error);
        if (failure.side === 'redis' && isMissingGroup(failure.inner)) {
          // The stream went away with its group: recreate both and carry on at once. Entries
          // still pending elsewhere are gone with the stream; new ones flow from here.
          const ok = await ensureGroup(this.redis, this.outbox.key, GROUP).then(
            () => true,
            () => false,
          );
          if (ok) {
            this.logger.warn(
              { stream: this.outbox.key, group: GROUP },
              'the outbox stream or its consumer group was missing (Redis lost data?): recreated them',
            );
            continue;
          }
        }
        const message =
          failure.side === 'postgres'
            ? 'call records wait in the outbox: cannot write to PostgreSQL'
            : 'call records wait in the outbox: cannot read or acknowledge them in Redis';
        this.logger.warn(
          {
            err: failure.message,
            side: failure.side,
            code: (failure.inner as { code?: string }).code,
            retryInMs: backoff,
          },
          message,
        );
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 5_000);
      }
    }
  }

  private async read(cursor: string): Promise<Array<[string, string[]]>> {
    const res = (await this.reader!.xreadgroup(
      'GROUP',
      GROUP,
      this.options.consumer,
      'COUNT',
      this.options.batch ?? 200,
      'BLOCK',
      cursor === '>' ? 1000 : 1,
      'STREAMS',
      this.outbox.key,
      cursor,
    )) as Array<[string, Array<[string, string[]]>]> | null;
    return res?.[0]?.[1] ?? [];
  }

  /**
   * Entries a writer that is gone (its controller crashed) had read and not acknowledged:
   * taken over at once. A live writer's entries are left to it, however slow.
   */
  private async claimStale(): Promise<Array<[string, string[]]>> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.outbox.key, GROUP)) as Array<Array<string | number>>;
    for (const c of consumers) {
      const info = Object.fromEntries(Array.from({ length: c.length / 2 }, (_, i) => [String(c[2 * i]), c[2 * i + 1]]));
      const name = String(info.name);
      if (name === this.options.consumer || (await this.options.isAlive(name))) continue;
      if (Number(info.pending) === 0) {
        await this.redis.xgroup('DELCONSUMER', this.outbox.key, GROUP, name);
        continue;
      }
      const pending = (await this.redis.xpending(
        this.outbox.key,
        GROUP,
        '-',
        '+',
        this.options.batch ?? 200,
        name,
      )) as Array<[string, string, number, number]>;
      const claimed = (await this.redis.xclaim(
        this.outbox.key,
        GROUP,
        this.options.consumer,
        0,
        ...pending.map(([id]) => id),
      )) as Array<[string, string[]] | null>;
      this.logger.warn(
        { from: name, records: claimed.length },
        'took over call records a stopped writer had not written',
      );
      return claimed.filter((e): e is [string, string[]] => e !== null && Array.isArray(e[1]));
    }
    return [];
  }

  /**
   * Writes a batch in one statement; if PostgreSQL refuses it for the data of some record,
   * record by record, so only the refused ones are set aside. A system failure (connection,
   * shutdown) is thrown: the entries stay pending and the loop retries with backoff.
   */
  private async write(entries: Array<[string, string[]]>): Promise<void> {
    const batch: Array<{ id: string; record: StoredRecord }> = [];
    for (const [id, fields] of entries) {
      const i = fields.indexOf('record');
      let parsed: StoredRecord;
      try {
        parsed = JSON.parse(i >= 0 ? fields[i + 1]! : '') as StoredRecord;
      } catch (err) {
        await this.deadLetter(id, i >= 0 ? fields[i + 1]! : JSON.stringify(fields), {
          code: 'unreadable',
          message: (err as Error).message,
        });
        continue;
      }
      const { value, repaired } = sanitizeRecord(parsed);
      if (repaired.length > 0)
        this.logger.warn(
          { callId: value.callId, repaired },
          'call record repaired: characters PostgreSQL cannot store were removed',
        );
      batch.push({ id, record: value });
    }
    if (batch.length === 0) return;
    try {
      await this.insert(batch);
      return;
    } catch (err) {
      if (!refusedForData(err)) throw err;
      if (batch.length > 1)
        this.logger.warn(
          { records: batch.length, err: err.message, code: pgError(err.inner).code },
          'PostgreSQL refused a batch of call records; writing them one by one',
        );
    }
    for (const one of batch) {
      try {
        await this.insert([one]);
      } catch (err) {
        if (!refusedForData(err)) throw err;
        await this.deadLetter(one.id, JSON.stringify(one.record), pgError(err.inner), one.record.callId);
      }
    }
  }

  private async insert(batch: Array<{ id: string; record: StoredRecord }>): Promise<void> {
    const fresh = await onPostgres(
      insertRecords(
        this.pool,
        batch.map((b) => b.record),
      ),
    );
    const ids = batch.map((b) => b.id);
    // Acknowledged only once the rows are in: a crash before this replays them, and the
    // primary key turns the replay into nothing.
    await onRedis(
      this.redis
        .multi()
        .xack(this.outbox.key, GROUP, ...ids)
        .xdel(this.outbox.key, ...ids)
        .exec(),
    );
    this.written += fresh;
    this.logger.info(
      { records: batch.length, written: fresh, callIds: batch.map((b) => b.record.callId) },
      'call records written',
    );
  }

  /** Sets a record aside with why it was refused, and takes it out of the outbox, in one step. */
  private async deadLetter(
    id: string,
    record: string,
    error: { code: string; message: string },
    callId?: string,
  ): Promise<void> {
    await onRedis(
      this.redis
        .multi()
        .xadd(
          this.outbox.deadKey,
          '*',
          'record',
          record,
          'code',
          error.code,
          'error',
          error.message,
          'failedAt',
          new Date().toISOString(),
          'outboxId',
          id,
        )
        .xack(this.outbox.key, GROUP, id)
        .xdel(this.outbox.key, id)
        .exec(),
    );
    this.logger.error(
      { callId, code: error.code, err: error.message, deadLetters: this.outbox.deadKey },
      'call record refused by PostgreSQL; set aside in the dead letters',
    );
  }
}

const refusedForData = (err: unknown): err is WriterFailure =>
  err instanceof WriterFailure && err.side === 'postgres' && isDataError(err.inner);

/** The SQLSTATE and message of a PostgreSQL error (with the column when it names one). */
export function pgError(err: Error): { code: string; message: string } {
  const e = err as Error & { code?: string; column?: string; detail?: string };
  return {
    code: e.code ?? 'unknown',
    message: [e.message, e.column ? `column ${e.column}` : '', e.detail ?? ''].filter(Boolean).join('; '),
  };
}
