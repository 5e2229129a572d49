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

import { LogEvent } from '../events/log-events.js';
import { type Redis, replicaAck } from '../store/redis.js';
import { migrate } from './migrate.js';
import { insertRecords, type StoredRecord } from './record-rows.js';
import { sanitizeRecord } from './sanitize.js';

const GROUP = 'writers';

/**
 * The master took a record but no replica confirmed it within the WAIT timeout. The record is
 * not dropped: it is in the master, the call's live state stays, and the call's end tries again
 * (calls/call-end.ts), appending it anew; the writer keeps one row per call id, so a record that
 * reached PostgreSQL twice is one row.
 */
export class RecordNotReplicated extends Error {
  constructor(
    readonly callId: string,
    readonly replicas: number,
    readonly wanted: number,
    readonly timeoutMs: number,
  ) {
    super(
      `call record ${callId} is on the Redis master only: ${replicas} of ${wanted} replicas within ${timeoutMs} ms`,
    );
  }
}

export class RecordOutbox {
  /** With replicas to wait for: the appends' own connection, since WAIT blocks the one it runs on. */
  private appender: Redis | undefined;
  /** How many times the appends' connection has been (re)made. */
  private generation = 0;

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

  /**
   * Appends a record. When the connection asks for replicas (redis.waitReplicas), it counts as
   * kept only once that many replicas hold it (WAIT); short of that it throws RecordNotReplicated
   * and the caller tries again, so a failover to a replica that never got the record cannot lose it.
   */
  async add(record: StoredRecord): Promise<void> {
    const ack = replicaAck(this.redis);
    if (!ack) {
      await this.redis.xadd(this.key, '*', 'record', JSON.stringify(record));
      return;
    }
    const conn = await this.appendConnection(ack.timeoutMs, record.callId);
    const generation = this.generation;
    // One write on one socket: WAIT counts this connection's writes, the XADD just before it
    // included. Had the connection been remade in between (a failover), WAIT would count nothing
    // of ours and answer at once: such an answer is not taken as a confirmation.
    const replies =
      (await conn
        .pipeline()
        .xadd(this.key, '*', 'record', JSON.stringify(record))
        .wait(ack.replicas, ack.timeoutMs)
        .exec()) ?? [];
    const failed = replies.find(([err]) => err)?.[0];
    if (failed) throw failed;
    const held = Number(replies[1]?.[1] ?? 0);
    if (held < ack.replicas || generation !== this.generation)
      throw new RecordNotReplicated(record.callId, held, ack.replicas, ack.timeoutMs);
  }

  private async appendConnection(timeoutMs: number, callId: string): Promise<Redis> {
    if (!this.appender) {
      const appender = this.redis.duplicate({ connectionName: `${this.prefix}:records-outbox` });
      appender.on('error', () => undefined); // the main connection logs Redis trouble
      appender.on('ready', () => this.generation++);
      // Closed with the main connection (the controller's shutdown disconnects it).
      this.redis.once('end', () => appender.disconnect());
      this.appender = appender;
    }
    const appender = this.appender;
    if (appender.status !== 'ready') {
      const ready = await new Promise<boolean>((resolve) => {
        const onReady = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          appender.off('ready', onReady);
          resolve(false);
        }, timeoutMs);
        appender.once('ready', onReady);
      });
      if (!ready) throw new RecordNotReplicated(callId, 0, replicaAck(this.redis)?.replicas ?? 1, timeoutMs);
    }
    return appender;
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
              { event: LogEvent.outboxRecreated, stream: this.outbox.key, group: GROUP },
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
            event: LogEvent.recordsWaiting,
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
        { event: LogEvent.recordsTakenOver, from: name, records: claimed.length },
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
          { event: LogEvent.recordRepaired, callId: value.callId, repaired },
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
