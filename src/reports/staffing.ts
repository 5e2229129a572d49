// Staffing by half hour (Erlang C): for each half hour of a Shanghai day, the calls a queue
// was offered and how it served them, the agents Erlang C says the queue's first target
// needed at that arrival rate and handle time, and the agents who were logged in (sampled
// each minute by the ACD). Where "needed" is above "logged in", the target was out of reach.
// Beside the rows, the service level at each of the queue's targets (10 s and 15 s) by half
// hour, for the supervisor's chart.
import type pg from 'pg';

import { agentsNeeded } from '../acd/erlang-c.js';
import { staffingKey } from '../acd/figures.js';
import type { QueueDefinition } from '../acd/queue-config.js';
import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';
import { shanghaiMidnight } from './report.js';

export interface StaffingRow {
  /** Start of the half hour, HH:MM Shanghai time. */
  from: string;
  offered: number;
  answered: number;
  abandoned: number;
  answeredWithinTarget: number;
  serviceLevelPercent: number | null;
  arrivalRatePerHour: number;
  handleTimeSeconds: number | null;
  agentsNeeded: number;
  loggedInAverage: number | null;
}

/** One of the queue's targets (10 s, 15 s …) by half hour, aligned with `rows`. */
export interface StaffingServiceLevel {
  seconds: number;
  /** The target percent for this many seconds. */
  targetPercent: number;
  answeredWithin: number[];
  /** Answered within `seconds` over answered + abandoned − short abandons, as the rows count it. */
  percent: Array<number | null>;
}

export interface StaffingReport {
  queue: string;
  date: string;
  target: { seconds: number; percent: number };
  /** Every target of the queue by half hour (the first is the rows' `serviceLevelPercent`). */
  serviceLevels: StaffingServiceLevel[];
  formula: string;
  rows: StaffingRow[];
}

/**
 * Handle time here is the agent's time per call, as Erlang C needs it and as the live figures
 * count it: talk + hold from the records (talk excludes hold) + the queue's wrap-up, which
 * runs after the call and so is not in the record.
 */
/** Handle time assumed for a half hour without answered calls (and no day figure either). */
const DEFAULT_HANDLE_S = 180;

export async function buildStaffing(
  pool: pg.Pool,
  redis: Redis,
  prefix: string,
  q: QueueDefinition,
  date: string,
): Promise<StaffingReport> {
  const start = shanghaiMidnight(date, 'date');
  const target = q.targets[0]!;
  const res = await pool
    .query(
      `
    SELECT floor(extract(epoch FROM started_at - $2::timestamptz) / 1800)::int AS slot,
      count(*) FILTER (WHERE queue IS NOT NULL AND end_reason NOT IN ('queue-full', 'no-agents')) AS offered,
      count(*) FILTER (WHERE answered) AS answered,
      count(*) FILTER (WHERE abandoned) AS abandoned,
      count(*) FILTER (WHERE abandoned AND short_abandon) AS short_abandons,
      count(*) FILTER (WHERE answered AND wait_ms <= $4) AS within,
      ${q.targets.map((_, i) => `count(*) FILTER (WHERE answered AND wait_ms <= $${5 + i}) AS within_${i},`).join('\n')}
      sum(coalesce(talk_ms, 0) + coalesce(hold_ms, 0)) FILTER (WHERE answered) AS handle_ms
    FROM call_records
    WHERE origin_queue = $1 AND direction = 'inbound' AND started_at >= $2 AND started_at < $3
    GROUP BY 1`,
      [
        q.id,
        start,
        new Date(start.getTime() + 86_400_000),
        target.seconds * 1000,
        ...q.targets.map((x) => x.seconds * 1000),
      ],
    )
    .catch((err: Error) => {
      throw new RexianError('REXIAN_DATABASE_UNAVAILABLE', {}, `cannot read the call records: ${err.message}`);
    });
  const bySlot = new Map((res.rows as Array<Record<string, string | number | null>>).map((r) => [Number(r.slot), r]));
  const samples = await redis.hgetall(staffingKey(prefix, q.id, date));
  const dayAnswered = [...bySlot.values()].reduce((n, r) => n + Number(r.answered), 0);
  const dayHandleMs = [...bySlot.values()].reduce((n, r) => n + Number(r.handle_ms ?? 0), 0);
  const wrapUpS = q.wrapUpSeconds;
  const dayHandleS = dayAnswered > 0 ? dayHandleMs / dayAnswered / 1000 + wrapUpS : DEFAULT_HANDLE_S;
  const rows: StaffingRow[] = [];
  const serviceLevels: StaffingServiceLevel[] = q.targets.map((x) => ({
    seconds: x.seconds,
    targetPercent: x.percent,
    answeredWithin: [],
    percent: [],
  }));
  for (let slot = 0; slot < 48; slot++) {
    const r = bySlot.get(slot);
    const offered = Number(r?.offered ?? 0);
    const answered = Number(r?.answered ?? 0);
    const abandoned = Number(r?.abandoned ?? 0);
    const within = Number(r?.within ?? 0);
    const base = answered + abandoned - Number(r?.short_abandons ?? 0);
    const handleS = answered > 0 ? Number(r!.handle_ms) / answered / 1000 + wrapUpS : null;
    serviceLevels.forEach((level, i) => {
      const w = Number(r?.[`within_${i}`] ?? 0);
      level.answeredWithin.push(w);
      level.percent.push(base > 0 ? Math.round((1000 * w) / base) / 10 : null);
    });
    const n = Number(samples[`${slot}:n`] ?? 0);
    rows.push({
      from: `${String(Math.floor(slot / 2)).padStart(2, '0')}:${slot % 2 ? '30' : '00'}`,
      offered,
      answered,
      abandoned,
      answeredWithinTarget: within,
      serviceLevelPercent: base > 0 ? Math.round((1000 * within) / base) / 10 : null,
      arrivalRatePerHour: offered * 2,
      handleTimeSeconds: handleS === null ? null : Math.round(handleS * 10) / 10,
      agentsNeeded:
        offered > 0 ? agentsNeeded(offered / 1800, handleS ?? dayHandleS, target.seconds, target.percent / 100) : 0,
      loggedInAverage: n > 0 ? Math.round((10 * Number(samples[`${slot}:sum`])) / n) / 10 : null,
    });
  }
  return {
    queue: q.id,
    date,
    target: { seconds: target.seconds, percent: target.percent },
    serviceLevels,
    formula:
      "agentsNeeded = the fewest agents for which Erlang C (M/M/N) predicts the first target at the half hour's arrival rate and handle time (talk + hold + the queue's wrap-up; the day's where the half hour has none)",
    rows,
  };
}
