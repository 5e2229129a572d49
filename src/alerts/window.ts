// Service level over the last N minutes, from the live figures alone: no hook in the ACD, no
// PostgreSQL. Each queue's figures carry today's running counters (answered, abandoned, short
// abandons, answered within each target; src/acd/figures.ts keeps them in Redis, shared by
// every controller). Sampling them every second and keeping a snapshot every few seconds, the
// calls of a window are the counters now minus the counters at the window's start. A new day
// (the counters start again at zero) counts its new values as the increase, so a window that
// spans midnight stays right. A controller that starts is given the minutes other controllers
// kept in Redis (./store.ts samples, replayed through add()); where the figures do not reach back
// far enough the window covers less than asked, and `coveredSeconds` says how much.
//
// The outbox trend (below) is the same idea for "the records outbox has grown for M minutes".
import type { WindowServiceLevel } from './types.js';

export type { WindowServiceLevel } from './types.js';

/** One queue's counters as its figures give them. */
export interface QueueCounters {
  queue: string;
  date: string;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  /** Answered within each target threshold (seconds → calls). */
  within: Record<number, number>;
}

interface Totals {
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  within: Record<number, number>;
}

interface Snapshot {
  at: number;
  totals: Map<string, Totals>;
}

/** How far before a window's start its base snapshot may be (a kept minute's sample, plus the tick). */
const BASE_TOLERANCE_MS = 90_000;

const empty = (): Totals => ({ answered: 0, abandoned: 0, shortAbandoned: 0, within: {} });
const copy = (t: Totals): Totals => ({ ...t, within: { ...t.within } });
const round = (x: number): number => Math.round(x * 100) / 100;

export class RecentWindow {
  private readonly last = new Map<string, QueueCounters>();
  private readonly totals = new Map<string, Totals>();
  private readonly snapshots: Snapshot[] = [];

  constructor(
    private readonly keepMs: number,
    private readonly snapshotEveryMs = 5_000,
  ) {}

  /** Takes the figures of this moment. */
  add(now: number, queues: QueueCounters[]): void {
    for (const q of queues) {
      const before = this.last.get(q.queue);
      const totals = this.totals.get(q.queue) ?? empty();
      // First sight of a queue: what it counted before is not in any window we can speak for.
      if (before) {
        const restarted = before.date !== q.date;
        const step = (now: number, then: number): number => (restarted || now < then ? now : now - then);
        totals.answered += step(q.answered, before.answered);
        totals.abandoned += step(q.abandoned, before.abandoned);
        totals.shortAbandoned += step(q.shortAbandoned, before.shortAbandoned);
        for (const [s, n] of Object.entries(q.within))
          totals.within[Number(s)] = (totals.within[Number(s)] ?? 0) + step(n, before.within[Number(s)] ?? 0);
      }
      this.totals.set(q.queue, totals);
      this.last.set(q.queue, { ...q, within: { ...q.within } });
    }
    const newest = this.snapshots[this.snapshots.length - 1];
    if (!newest || now - newest.at >= this.snapshotEveryMs) {
      this.snapshots.push({ at: now, totals: new Map([...this.totals].map(([k, t]) => [k, copy(t)])) });
      // Keep one snapshot older than the longest window: it is that window's start.
      while (this.snapshots.length > 2 && now - this.snapshots[1]!.at >= this.keepMs) this.snapshots.shift();
    }
  }

  /** How many seconds back the figures reach (a window longer than this covers only this). */
  coveredSeconds(now: number, minutes: number): number {
    const base = this.baseFor(now, minutes);
    return base ? Math.round((now - base.at) / 1000) : 0;
  }

  /** Service level at `seconds` over the last `minutes`, for a queue or (queue undefined) every queue targeting it. */
  serviceLevel(now: number, minutes: number, seconds: number, queue?: string): WindowServiceLevel {
    const base = this.baseFor(now, minutes);
    const sum = { answeredWithin: 0, answered: 0, abandoned: 0, shortAbandoned: 0 };
    for (const [id, totals] of this.totals) {
      if (queue !== undefined && id !== queue) continue;
      if (totals.within[seconds] === undefined && this.last.get(id)?.within[seconds] === undefined) continue;
      const then = base?.totals.get(id) ?? empty();
      sum.answeredWithin += (totals.within[seconds] ?? 0) - (then.within[seconds] ?? 0);
      sum.answered += totals.answered - then.answered;
      sum.abandoned += totals.abandoned - then.abandoned;
      sum.shortAbandoned += totals.shortAbandoned - then.shortAbandoned;
    }
    const calls = sum.answered + sum.abandoned - sum.shortAbandoned;
    return { seconds, ...sum, calls, percent: calls > 0 ? round((100 * sum.answeredWithin) / calls) : null };
  }

  /**
   * The newest snapshot at or before the window's start; when there is none close enough to it (the
   * figures start later, or no controller ran for a while), the first one after it: the window
   * then covers less than asked, never more (coveredSeconds says how much).
   */
  private baseFor(now: number, minutes: number): Snapshot | undefined {
    const start = now - minutes * 60_000;
    let base: Snapshot | undefined;
    for (const s of this.snapshots) {
      if (s.at > start) return base && start - base.at <= BASE_TOLERANCE_MS ? base : s;
      base = s;
    }
    return base && start - base.at <= BASE_TOLERANCE_MS ? base : this.snapshots[this.snapshots.length - 1];
  }
}

/** Since when the records outbox has not shrunk, and how long it was then; undefined while it is empty. */
export interface OutboxTrend {
  since: number;
  from: number;
  last: number;
}

export function trackOutbox(trend: OutboxTrend | undefined, length: number, now: number): OutboxTrend | undefined {
  if (length === 0) return undefined;
  if (!trend || length < trend.last) return { since: now, from: length, last: length };
  return { ...trend, last: length };
}

/** The outbox has not shrunk for `minutes` and holds more than it did then. */
export function outboxGrowing(trend: OutboxTrend | undefined, now: number, minutes: number): boolean {
  return trend !== undefined && trend.last > trend.from && now - trend.since >= minutes * 60_000;
}
