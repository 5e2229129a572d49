// The call records PostgreSQL refused for their own data, set aside by the writer so the rest
// of the outbox flows (outbox.ts). Ops list them with the error, and replay one: as it was
// (the cause was fixed on the database side) or corrected. A replay writes the record at
// once and removes it from the dead letters only when its row is in; a record already in
// the table (replayed twice) counts as done.
import type pg from 'pg';

import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';
import { isDataError, pgError, type RecordOutbox } from './outbox.js';
import { insertRecords, type StoredRecord } from './record-rows.js';
import { sanitizeRecord } from './sanitize.js';

export interface DeadLetter {
  id: string;
  callId: string | null;
  failedAt: string;
  /** PostgreSQL's SQLSTATE (22003 out of range …), or 'unreadable' for an entry that is not JSON. */
  code: string;
  error: string;
  outboxId: string;
  /** The record as it was refused (an unreadable one as its text). */
  record: StoredRecord | string;
}

function entry(id: string, fields: string[]): DeadLetter {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  let record: StoredRecord | string = f.record ?? '';
  try {
    record = JSON.parse(record) as StoredRecord;
  } catch {
    /* kept as text */
  }
  return {
    id,
    callId: typeof record === 'object' && record !== null ? String(record.callId ?? '') || null : null,
    failedAt: f.failedAt ?? '',
    code: f.code ?? '',
    error: f.error ?? '',
    outboxId: f.outboxId ?? '',
    record,
  };
}

export class DeadLetters {
  constructor(
    private readonly redis: Redis,
    private readonly outbox: RecordOutbox,
    private readonly pool: pg.Pool,
  ) {}

  count(): Promise<number> {
    return this.redis.xlen(this.outbox.deadKey);
  }

  /** Oldest first. */
  async list(limit: number): Promise<DeadLetter[]> {
    const rows = await this.redis.xrange(this.outbox.deadKey, '-', '+', 'COUNT', limit);
    return rows.map(([id, fields]) => entry(id, fields));
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const [row] = await this.redis.xrange(this.outbox.deadKey, id, id);
    return row ? entry(row[0], row[1]) : undefined;
  }

  /** Writes the record (or its correction) to PostgreSQL; true when a new row went in. */
  async replay(id: string, correction?: StoredRecord): Promise<{ written: boolean; record: StoredRecord }> {
    const letter = await this.get(id);
    if (!letter) throw new RexianError('REXIAN_NOT_FOUND', { id }, `no dead letter ${id}`);
    const original = correction ?? letter.record;
    if (typeof original !== 'object' || original === null || typeof original.callId !== 'string') {
      throw new RexianError(
        'REXIAN_BAD_REQUEST',
        { id, field: 'record' },
        'this dead letter is not a readable record: replay it with a corrected record in the body',
      );
    }
    const record = sanitizeRecord(original).value;
    let fresh: number;
    try {
      fresh = await insertRecords(this.pool, [record]);
    } catch (err) {
      if (isDataError(err)) {
        throw new RexianError(
          'REXIAN_RECORD_REFUSED',
          { id, sqlstate: pgError(err as Error).code },
          pgError(err as Error).message,
        );
      }
      throw new RexianError(
        'REXIAN_DATABASE_UNAVAILABLE',
        { id },
        `cannot write the record: ${(err as Error).message}`,
      );
    }
    await this.redis.xdel(this.outbox.deadKey, id);
    return { written: fresh === 1, record };
  }
}
