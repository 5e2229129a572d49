// `npm run bench:reports`: a year of a big city's traffic (3 million call records by
// default) loaded into PostgreSQL, then the reports timed: one day, one day by hour, and the
// whole year by queue, by line, by agent and by day (read from the daily roll-up the writer
// keeps; by hour reads the calls). Each is run three times; the best and
// the worst are printed. The last line is one JSON object with the figures.
import { join } from 'node:path';

import pg from 'pg';

import { repoRoot } from '../src/asterisk/instance.js';
import { migrate } from '../src/records/migrate.js';
import { rebuildDailyRollup } from '../src/records/sums.js';
import { buildReport, type GroupBy } from '../src/reports/report.js';
import { dropDatabase, recreateDatabase } from '../test/helpers/lab.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ROWS = Number(args.get('rows') ?? 3_000_000);
const KEEP = args.has('keep');
const DB = 'rexian_bench_reports';

async function main(): Promise<void> {
  await recreateDatabase(DB);
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${DB}`, max: 4 });
  await migrate(pool, join(repoRoot, 'migrations'));
  const loadStart = Date.now();
  const chunk = 250_000;
  // Synthetic but shaped like a hotline: 6 lines, 9 queues, 400 agents, 95% answered with
  // waits of a few seconds, 5% outbound, a survey answer for half the answered calls.
  for (let first = 0; first < ROWS; first += chunk) {
    await pool.query(
      `
      INSERT INTO call_records (call_id, direction, did, line, caller, started_at, ended_at, end_reason, queue, origin_queue,
        entered_queue_at, wait_ms, answered, answered_at, abandoned, short_abandon, agent_id, agents, talk_ms, hold_ms, survey)
      SELECT 'b' || g,
        CASE WHEN g % 20 = 0 THEN 'outbound' ELSE 'inbound' END,
        (ARRAY['12345','12315','12329','12333','12366','12348'])[1 + g % 6],
        (ARRAY['12345 政务服务便民热线','12315 市场监管投诉举报','12329 住房公积金','12333 人力资源和社会保障','12366 纳税服务','12348 公共法律服务'])[1 + g % 6],
        '138' || lpad((g % 100000000)::text, 8, '0'),
        ts, ts + interval '200 seconds', 'hangup',
        q, q, ts, wait, ans, CASE WHEN ans THEN ts + wait * interval '1 millisecond' END,
        NOT ans, NOT ans AND wait < 5000,
        CASE WHEN ans THEN (1000 + g % 400)::text END, CASE WHEN ans THEN ARRAY[(1000 + g % 400)::text] ELSE '{}' END,
        CASE WHEN ans THEN 60000 + (g * 7919) % 400000 END, CASE WHEN ans THEN (g * 31) % 20000 END,
        CASE WHEN ans AND g % 2 = 0 THEN (ARRAY['satisfied','basically-satisfied','dissatisfied'])[1 + g % 3] END
      FROM (
        SELECT g, timestamptz '2025-01-01 00:00+08' + (g * (365 * 86400.0 / $1)) * interval '1 second' AS ts,
          (ARRAY['general','yihaoda','enterprise','talent','line-12315','line-12329','line-12333','line-12366','line-12348'])[1 + g % 9] AS q,
          (g * 2654435761 % 15000)::int AS wait, (g % 100) < 95 AS ans
        FROM generate_series($2::bigint, $3::bigint) AS g
      ) s`,
      [ROWS, first + 1, Math.min(ROWS, first + chunk)],
    );
    process.stdout.write(`\rloaded ${Math.min(ROWS, first + chunk).toLocaleString()} records`);
  }
  const loadS = (Date.now() - loadStart) / 1000;
  console.log(`\n${ROWS.toLocaleString()} records loaded in ${loadS.toFixed(1)} s`);
  // The writer keeps the daily roll-up as it inserts; this bulk load went around it.
  const rollStart = Date.now();
  await rebuildDailyRollup(pool);
  await pool.query('VACUUM ANALYZE call_records');
  await pool.query('VACUUM ANALYZE call_daily');
  const rollups = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM call_daily')).rows[0]!.n);
  console.log(
    `daily roll-up: ${rollups.toLocaleString()} rows, built in ${((Date.now() - rollStart) / 1000).toFixed(1)} s`,
  );

  const cases: Array<[string, string, string, GroupBy]> = [
    ['one day by queue', '2025-06-18', '2025-06-18', 'queue'],
    ['one day by hour', '2025-06-18', '2025-06-18', 'hour'],
    ['one day by agent', '2025-06-18', '2025-06-18', 'agent'],
    ['the year by queue', '2025-01-01', '2025-12-31', 'queue'],
    ['the year by line', '2025-01-01', '2025-12-31', 'line'],
    ['the year by agent', '2025-01-01', '2025-12-31', 'agent'],
    ['the year by day', '2025-01-01', '2025-12-31', 'day'],
  ];
  const results: Record<string, { bestMs: number; worstMs: number; calls: number }> = {};
  console.log('report                 best ms   worst ms   calls counted');
  for (const [label, from, to, by] of cases) {
    const times: number[] = [];
    let calls = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await buildReport(pool, from, to, by);
      times.push(performance.now() - t0);
      calls = r.total.inbound + r.total.outbound;
    }
    results[label] = { bestMs: Math.round(Math.min(...times)), worstMs: Math.round(Math.max(...times)), calls };
    console.log(
      `${label.padEnd(22)} ${String(results[label]!.bestMs).padStart(7)} ${String(results[label]!.worstMs).padStart(10)} ${calls.toLocaleString().padStart(15)}`,
    );
  }
  await pool.end();
  if (!KEEP) await dropDatabase(DB);
  console.log(JSON.stringify({ rows: ROWS, rollupRows: rollups, loadSeconds: Math.round(loadS), reports: results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
