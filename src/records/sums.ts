// The additive figures of a set of call records, as SQL: what reports read, and what the
// daily roll-up keeps per day, line, queue and agent. Maxima combine with GREATEST, the
// rest add up, so roll-up rows of any grouping sum to the same figures as the calls.
// talk_ms excludes hold (see call-record.ts), so handle = talk + hold counts each second once;
// wrap-up (after-call work) is not in the records, so it is not in handle_sum.

export const SUM_COLUMNS: Array<{ name: string; combine: 'sum' | 'max'; expr: string }> = [
  { name: 'inbound', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'inbound')" },
  // A caller a queue turned away (full, nobody to answer) was never in it: not offered, as live.
  {
    name: 'offered',
    combine: 'sum',
    expr: "count(*) FILTER (WHERE direction = 'inbound' AND queue IS NOT NULL AND end_reason NOT IN ('queue-full', 'no-agents'))",
  },
  { name: 'answered', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'inbound' AND answered)" },
  {
    name: 'within10',
    combine: 'sum',
    expr: "count(*) FILTER (WHERE direction = 'inbound' AND answered AND wait_ms <= 10000)",
  },
  {
    name: 'within15',
    combine: 'sum',
    expr: "count(*) FILTER (WHERE direction = 'inbound' AND answered AND wait_ms <= 15000)",
  },
  { name: 'abandoned', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'inbound' AND abandoned)" },
  { name: 'short_abandons', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'inbound' AND short_abandon)" },
  { name: 'wait_sum', combine: 'sum', expr: "sum(wait_ms) FILTER (WHERE direction = 'inbound' AND answered)" },
  { name: 'talk_sum', combine: 'sum', expr: "sum(talk_ms) FILTER (WHERE direction = 'inbound' AND answered)" },
  { name: 'talk_max', combine: 'max', expr: "max(talk_ms) FILTER (WHERE direction = 'inbound' AND answered)" },
  { name: 'outbound', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'outbound')" },
  { name: 'outbound_answered', combine: 'sum', expr: "count(*) FILTER (WHERE direction = 'outbound' AND answered)" },
  {
    name: 'outbound_talk_sum',
    combine: 'sum',
    expr: "sum(talk_ms) FILTER (WHERE direction = 'outbound' AND answered)",
  },
  {
    name: 'outbound_talk_max',
    combine: 'max',
    expr: "max(talk_ms) FILTER (WHERE direction = 'outbound' AND answered)",
  },
  { name: 'surveyed', combine: 'sum', expr: 'count(survey)' },
  { name: 'satisfied', combine: 'sum', expr: "count(*) FILTER (WHERE survey IN ('satisfied', 'basically-satisfied'))" },
  {
    name: 'handle_sum',
    combine: 'sum',
    expr: "sum(coalesce(talk_ms, 0) + coalesce(hold_ms, 0)) FILTER (WHERE direction = 'inbound' AND answered)",
  },
];

/** The figures over call records (a select list). */
export const RECORD_SUMS = SUM_COLUMNS.map((c) => `${c.expr} AS ${c.name}`).join(',\n  ');

/** The figures over roll-up rows (a select list). */
export const ROLLUP_SUMS = SUM_COLUMNS.map((c) => `${c.combine}(${c.name}) AS ${c.name}`).join(',\n  ');

/** Adds call records (a relation named `source`) into the daily roll-up. */
export const ROLL_UP = `INSERT INTO call_daily (day, line, queue, agent, ${SUM_COLUMNS.map((c) => c.name).join(', ')})
  SELECT (started_at AT TIME ZONE 'Asia/Shanghai')::date, line, coalesce(origin_queue, ''), coalesce(agent_id, ''),
  ${RECORD_SUMS}
  FROM source GROUP BY 1, 2, 3, 4
  ON CONFLICT (day, line, queue, agent) DO UPDATE SET
  ${SUM_COLUMNS.map((c) =>
    c.combine === 'max'
      ? `${c.name} = GREATEST(call_daily.${c.name}, EXCLUDED.${c.name})`
      : `${c.name} = coalesce(call_daily.${c.name}, 0) + coalesce(EXCLUDED.${c.name}, 0)`,
  ).join(',\n  ')}`;

/** Rebuilds the roll-up from every call record (after a bulk load that bypassed the writer). */
export async function rebuildDailyRollup(pool: { query(sql: string): Promise<unknown> }): Promise<void> {
  await pool.query('TRUNCATE call_daily');
  await pool.query(`WITH source AS (SELECT * FROM call_records) ${ROLL_UP}`);
}
