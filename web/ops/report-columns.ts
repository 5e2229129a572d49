// The columns the ops page shows of a report row (the CSV has them all), and how each reads:
// a count as is, a rate (0–1 from the API) as a percentage, seconds with one decimal. One list
// so the table, its cells' data-value (the API's own figure) and the chart agree.
import type { ReportRow } from './reports-api';

export type ColumnKind = 'count' | 'rate' | 'seconds';

export const REPORT_COLUMNS: ReadonlyArray<{ key: keyof ReportRow; kind: ColumnKind }> = [
  { key: 'offered', kind: 'count' },
  { key: 'answered', kind: 'count' },
  { key: 'answerRate', kind: 'rate' },
  { key: 'serviceLevel10s', kind: 'rate' },
  { key: 'serviceLevel15s', kind: 'rate' },
  { key: 'averageWaitSeconds', kind: 'seconds' },
  { key: 'averageTalkSeconds', kind: 'seconds' },
  { key: 'abandoned', kind: 'count' },
  { key: 'shortAbandons', kind: 'count' },
  { key: 'outbound', kind: 'count' },
  { key: 'satisfactionRate', kind: 'rate' },
  { key: 'averageHandleTimeSeconds', kind: 'seconds' },
];

/** A figure as the table shows it; null (nothing to divide by) is a dash. */
export function formatFigure(value: ReportRow[keyof ReportRow], kind: ColumnKind): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (kind === 'rate') return `${(value * 100).toFixed(1)}%`;
  if (kind === 'seconds') return value.toFixed(1);
  return String(value);
}
