// The ops page's calls to the reports and recordings API (src/reports/routes.ts,
// src/recording/routes.ts), typed with the server's own shapes. A CSV or a recording is not
// JSON: it is fetched with the session cookie as a Blob (an <audio> or <a download> could not
// say why it failed), and its failures read like every other API error (ApiError with the
// API's code), so the page words them in its own language.
import type { RecordingInfo } from '../../src/recording/service.js';
import type { GroupBy, Report, ReportRow } from '../../src/reports/report.js';
import { api, ApiError } from '../shared/api';

export type { GroupBy, RecordingInfo, Report, ReportRow };

export type ReportKind = 'daily' | 'hourly' | 'range';

export interface ReportQuery {
  kind: ReportKind;
  /** The day (daily, hourly) or the first day (range), YYYY-MM-DD. */
  from: string;
  /** The last day of a range. */
  to: string;
  by: GroupBy;
}

export interface RecordingHit extends RecordingInfo {
  file: string;
}

export interface RecordingSearchQuery {
  callId: string;
  agentId: string;
  from: string;
  to: string;
}

/** The path of a report, as JSON or CSV: the one place the page's choices become the API's query. */
export function reportPath(q: ReportQuery, format: 'json' | 'csv'): string {
  const params = new URLSearchParams();
  if (q.kind === 'range') {
    params.set('from', q.from);
    params.set('to', q.to);
  } else params.set('date', q.from);
  if (q.kind !== 'hourly') params.set('by', q.by);
  if (format === 'csv') params.set('format', 'csv');
  return `/api/reports/${q.kind}?${params.toString()}`;
}

export const loadReport = (q: ReportQuery): Promise<Report> => api<Report>('GET', reportPath(q, 'json'));

export async function searchRecordings(
  q: RecordingSearchQuery,
): Promise<{ recordings: RecordingHit[]; truncated: boolean }> {
  const params = new URLSearchParams();
  if (q.callId.trim()) params.set('callId', q.callId.trim());
  if (q.agentId.trim()) params.set('agentId', q.agentId.trim());
  if (q.from) params.set('from', q.from);
  if (q.to && q.from) params.set('to', q.to);
  return api('GET', `/api/recordings?${params.toString()}`);
}

/** A file from the API with the session; the file name from its content-disposition. */
export async function fetchFile(path: string): Promise<{ blob: Blob; name: string }> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', {}, (err as Error).message);
  }
  if (!res.ok) {
    let e: { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
    try {
      e = ((await res.json()) as { error?: typeof e }).error;
    } catch {
      e = undefined;
    }
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.details ?? {}, e?.message ?? res.statusText);
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'download';
  return { blob: await res.blob(), name };
}

/** Hands a Blob to the browser as a file to save. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has taken the Blob by the time the next task runs.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Today in Beijing, YYYY-MM-DD: the reports' and the recordings' days are Beijing days. */
export function todayInBeijing(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}
