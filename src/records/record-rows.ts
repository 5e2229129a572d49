// A call record as a row of call_records, and the one statement that writes rows and their
// daily roll-up (the writer's, the dead-letter replay's, the report benchmarks' and tests').
import type pg from 'pg';

import type { CallRecord } from './call-record.js';
import { ROLL_UP } from './sums.js';

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
