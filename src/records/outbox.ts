// Nothing lost: a finished call's record goes first into a Redis stream (the outbox), in the
// same step that ends the call, and a writer moves it into PostgreSQL. While PostgreSQL is
// down or slow the records wait in the stream; the writer retries with backoff and writes
// each exactly once (the call id is the primary key, and a record is acknowledged only after
// its row is in). Entries a crashed writer had read are taken over by a live one.
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Redis } from '../store/redis.js';
import type { CallRecord } from './call-record.js';
import { migrate } from './migrate.js';
import { ROLL_UP } from './sums.js';

const GROUP = 'writers';
const COLUMNS = [
  'call_id', 'direction', 'did', 'line', 'caller', 'caller_masked', 'started_at', 'ended_at', 'end_reason', 'flow_id', 'flow_version',
  'ivr_path', 'digits', 'queue', 'origin_queue', 'entered_queue_at', 'wait_ms', 'answered', 'answered_at', 'abandoned', 'short_abandon',
  'agent_id', 'agents', 'talk_ms', 'hold_ms', 'transfers', 'window_id', 'emergency', 'survey', 'recordings', 'masking_binding', 'hangup_side',
  'legs', 'events',
] as const;

function row(r: CallRecord): unknown[] {
  return [
    r.callId, r.direction, r.did, r.line, r.caller, r.callerMasked, r.startedAt, r.endedAt, r.endReason, r.flowId, r.flowVersion,
    r.ivrPath, JSON.stringify(r.digits), r.queue, r.originQueue, r.enteredQueueAt, r.waitMs, r.answered, r.answeredAt, r.abandoned, r.shortAbandon,
    r.agentId, r.agents, r.talkMs, r.holdMs, r.transfers, r.windowId, r.emergency, r.survey, r.recordings, r.maskingBinding, r.hangupSide,
    // Records queued in the outbox by an older version have neither.
    JSON.stringify(r.legs ?? []), JSON.stringify(r.events ?? []),
  ];
}

/** Inserts records and adds them to the daily roll-up; one already written (a replay) is skipped. Returns how many were new. */
export async function insertRecords(pool: pg.Pool, records: CallRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const values: unknown[] = [];
  const tuples = records.map((r) => {
    const base = values.length;
    values.push(...row(r));
    return `(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  // One statement: the rows that are new (a replay inserts none) go into the roll-up too.
  const res = await pool.query(`WITH source AS (
      INSERT INTO call_records (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (call_id) DO NOTHING RETURNING *
    ), rolled AS (${ROLL_UP})
    SELECT count(*) AS n FROM source`, values);
  return Number((res.rows[0] as { n: string }).n);
}

export class RecordOutbox {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  get key(): string {
    return `${this.prefix}:records:outbox`;
  }

  async add(record: CallRecord): Promise<void> {
    await this.redis.xadd(this.key, '*', 'record', JSON.stringify(record));
  }
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
    await this.redis.xgroup('CREATE', this.outbox.key, GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!/BUSYGROUP/.test(err.message)) throw err;
    });
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
          const applied = await migrate(this.pool, this.options.migrationsDir);
          this.migrated = true;
          if (applied.length > 0) this.logger.info({ applied }, 'database migrations applied');
        }
        const stolen = await this.claimStale();
        const fresh = stolen.length > 0 ? stolen : await this.read(cursor);
        if (fresh.length === 0 && cursor === '0') cursor = '>';
        if (fresh.length > 0) await this.write(fresh);
        backoff = 250;
      } catch (err) {
        if (this.stopped) return;
        cursor = '0'; // what we read and could not write is ours, pending: read it again
        this.logger.warn({ err: (err as Error).message, retryInMs: backoff }, 'call records wait in the outbox: cannot write to PostgreSQL');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 5_000);
      }
    }
  }

  private async read(cursor: string): Promise<Array<[string, string[]]>> {
    const res = await this.reader!.xreadgroup('GROUP', GROUP, this.options.consumer, 'COUNT', this.options.batch ?? 200, 'BLOCK', cursor === '>' ? 1000 : 1, 'STREAMS', this.outbox.key, cursor) as Array<[string, Array<[string, string[]]>]> | null;
    return res?.[0]?.[1] ?? [];
  }

  /**
   * Entries a writer that is gone (its controller crashed) had read and not acknowledged:
   * taken over at once. A live writer's entries are left to it, however slow.
   */
  private async claimStale(): Promise<Array<[string, string[]]>> {
    const consumers = await this.redis.xinfo('CONSUMERS', this.outbox.key, GROUP) as Array<Array<string | number>>;
    for (const c of consumers) {
      const info = Object.fromEntries(Array.from({ length: c.length / 2 }, (_, i) => [String(c[2 * i]), c[2 * i + 1]]));
      const name = String(info.name);
      if (name === this.options.consumer || (await this.options.isAlive(name))) continue;
      if (Number(info.pending) === 0) {
        await this.redis.xgroup('DELCONSUMER', this.outbox.key, GROUP, name);
        continue;
      }
      const pending = await this.redis.xpending(this.outbox.key, GROUP, '-', '+', this.options.batch ?? 200, name) as Array<[string, string, number, number]>;
      const claimed = await this.redis.xclaim(this.outbox.key, GROUP, this.options.consumer, 0, ...pending.map(([id]) => id)) as Array<[string, string[]] | null>;
      this.logger.warn({ from: name, records: claimed.length }, 'took over call records a stopped writer had not written');
      return claimed.filter((e): e is [string, string[]] => e !== null && Array.isArray(e[1]));
    }
    return [];
  }

  private async write(entries: Array<[string, string[]]>): Promise<void> {
    const records: CallRecord[] = [];
    for (const [, fields] of entries) {
      const i = fields.indexOf('record');
      if (i >= 0) records.push(JSON.parse(fields[i + 1]!) as CallRecord);
    }
    const fresh = await insertRecords(this.pool, records);
    const ids = entries.map(([id]) => id);
    // Acknowledged only once the rows are in: a crash before this replays them, and the
    // primary key turns the replay into nothing.
    await this.redis.multi().xack(this.outbox.key, GROUP, ...ids).xdel(this.outbox.key, ...ids).exec();
    this.written += fresh;
    this.logger.info({ records: records.length, written: fresh, callIds: records.map((r) => r.callId) }, 'call records written');
  }
}
