// The tables a hotline is judged by, from the call records: per line, queue, agent, hour or
// day, for one day or a range (days in Asia/Shanghai). One SQL pass aggregates; the rates
// are computed here so their formulas are stated once, and printed with the report.
import type pg from 'pg';

import { RexianError } from '../errors/index.js';
import { RECORD_SUMS, ROLLUP_SUMS } from '../records/sums.js';

export type GroupBy = 'line' | 'queue' | 'agent' | 'hour' | 'day';

const GROUPS = { hour: "extract(hour FROM started_at AT TIME ZONE 'Asia/Shanghai')::int" };
const ROLLUP_GROUPS: Record<Exclude<GroupBy, 'hour'>, string> = {
  line: 'line',
  queue: "nullif(queue, '')",
  agent: "nullif(agent, '')",
  day: "to_char(day, 'YYYY-MM-DD')",
};

export const FORMULAS = {
  answerRate: 'answered ÷ offered (inbound calls that reached a queue)',
  serviceLevel: 'answered within T seconds ÷ (answered + abandoned − short abandons)',
  satisfaction: '(satisfied + basically satisfied) ÷ survey answers',
  averageTalkTime: 'talk ÷ answered (talk: with an agent, hold excluded)',
  averageHandleTime:
    '(talk + hold) ÷ answered (hold: on hold or in a consultation while an agent had the call; wrap-up is not in the call records and not included)',
} as const;

export interface ReportRow {
  /** The group's value: a line, queue id, agent id, hour (0–23) or day; "total" for all. */
  key: string;
  inbound: number;
  offered: number;
  answered: number;
  answerRate: number | null;
  answeredWithin10s: number;
  answeredWithin15s: number;
  serviceLevel10s: number | null;
  serviceLevel15s: number | null;
  averageWaitSeconds: number | null;
  averageTalkSeconds: number | null;
  longestTalkSeconds: number | null;
  abandoned: number;
  shortAbandons: number;
  outbound: number;
  outboundAnswered: number;
  outboundAverageTalkSeconds: number | null;
  outboundLongestTalkSeconds: number | null;
  surveyAnswers: number;
  satisfactionRate: number | null;
  averageHandleTimeSeconds: number | null;
}

export interface Report {
  from: string;
  to: string;
  by: GroupBy;
  timezone: 'Asia/Shanghai';
  formulas: typeof FORMULAS;
  rows: ReportRow[];
  total: ReportRow;
}

/** Shanghai midnight of a YYYY-MM-DD date, as an instant. */
export function shanghaiMidnight(date: string, field = 'date'): Date {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(date) ? new Date(`${date}T00:00:00+08:00`) : undefined;
  // 2026-02-30 parses (as March 2nd): it must read back as the same date.
  if (!d || Number.isNaN(d.getTime()) || new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10) !== date) {
    throw new RexianError(
      'REXIAN_BAD_REQUEST',
      { field, value: date },
      `${field} "${date}" is not a calendar date (YYYY-MM-DD)`,
    );
  }
  return d;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const seconds = (ms: number | null, n: number): number | null =>
  ms === null || n === 0 ? null : Math.round(ms / n / 100) / 10;
const num = (v: unknown): number => Number(v ?? 0);

/** Rates from one group's sums (a pure function: the formulas live here). */
export function figures(key: string, s: Record<string, unknown>): ReportRow {
  const answered = num(s.answered);
  const base = answered + num(s.abandoned) - num(s.short_abandons);
  const longest = s.talk_max === null || s.talk_max === undefined ? null : Math.round(num(s.talk_max) / 100) / 10;
  const outboundLongest =
    s.outbound_talk_max === null || s.outbound_talk_max === undefined
      ? null
      : Math.round(num(s.outbound_talk_max) / 100) / 10;
  return {
    key,
    inbound: num(s.inbound),
    offered: num(s.offered),
    answered,
    answerRate: ratio(answered, num(s.offered)),
    answeredWithin10s: num(s.within10),
    answeredWithin15s: num(s.within15),
    serviceLevel10s: ratio(num(s.within10), base),
    serviceLevel15s: ratio(num(s.within15), base),
    averageWaitSeconds: seconds(num(s.wait_sum), answered),
    averageTalkSeconds: seconds(num(s.talk_sum), answered),
    longestTalkSeconds: longest,
    abandoned: num(s.abandoned),
    shortAbandons: num(s.short_abandons),
    outbound: num(s.outbound),
    outboundAnswered: num(s.outbound_answered),
    outboundAverageTalkSeconds: seconds(num(s.outbound_talk_sum), num(s.outbound_answered)),
    outboundLongestTalkSeconds: outboundLongest,
    surveyAnswers: num(s.surveyed),
    satisfactionRate: ratio(num(s.satisfied), num(s.surveyed)),
    averageHandleTimeSeconds: seconds(num(s.handle_sum), answered),
  };
}

/** The report for [from, to] (whole Shanghai days, both included), grouped. */
export async function buildReport(
  pool: pg.Pool,
  from: string,
  to: string,
  by: GroupBy,
  fields = { from: 'from', to: 'to' },
): Promise<Report> {
  const start = shanghaiMidnight(from, fields.from);
  const end = new Date(shanghaiMidnight(to, fields.to).getTime() + 86_400_000);
  if (end <= start)
    throw new RexianError('REXIAN_BAD_REQUEST', { field: 'to', value: to }, `"to" (${to}) is before "from" (${from})`);
  if (end.getTime() - start.getTime() > 366 * 86_400_000)
    throw new RexianError(
      'REXIAN_BAD_REQUEST',
      { field: 'to', value: to },
      `a report covers at most 366 days (${from} to ${to} is longer)`,
    );
  // By hour needs each call's time; every other grouping reads the daily roll-up.
  const res = await (
    by === 'hour'
      ? pool.query(
          `SELECT ${GROUPS.hour} AS key, GROUPING(${GROUPS.hour}) AS is_total, ${RECORD_SUMS}
         FROM call_records WHERE started_at >= $1 AND started_at < $2
        GROUP BY GROUPING SETS ((${GROUPS.hour}), ())`,
          [start, end],
        )
      : pool.query(
          `SELECT ${ROLLUP_GROUPS[by]} AS key, GROUPING(${ROLLUP_GROUPS[by]}) AS is_total, ${ROLLUP_SUMS}
         FROM call_daily WHERE day >= $1::date AND day <= $2::date
        GROUP BY GROUPING SETS ((${ROLLUP_GROUPS[by]}), ())`,
          [from, to],
        )
  ).catch((err: Error) => {
    throw new RexianError('REXIAN_DATABASE_UNAVAILABLE', {}, `cannot read the call records: ${err.message}`);
  });
  const rows: ReportRow[] = [];
  let total = figures('total', {});
  for (const r of res.rows as Array<Record<string, unknown>>) {
    if (num(r.is_total) === 1) total = figures('total', r);
    else rows.push(figures(r.key === null ? '(none)' : String(r.key), r));
  }
  rows.sort((a, b) => (by === 'hour' ? Number(a.key) - Number(b.key) : a.key.localeCompare(b.key)));
  return { from, to, by, timezone: 'Asia/Shanghai', formulas: FORMULAS, rows, total };
}

/** The report as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese right). */
export function reportCsv(report: Report): string {
  const columns = Object.keys(report.total) as Array<keyof ReportRow>;
  const cell = (v: unknown): string =>
    v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  const lines = [
    `# ${report.from} – ${report.to}, by ${report.by}, ${report.timezone}`,
    ...Object.entries(report.formulas).map(([k, f]) => `# ${k} = ${f}`),
    [report.by, ...columns.slice(1)].join(','),
    ...[...report.rows, report.total].map((r) => columns.map((c) => cell(r[c])).join(',')),
  ];
  return `\uFEFF${lines.join('\n')}\n`;
}
