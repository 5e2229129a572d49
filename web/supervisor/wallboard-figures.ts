// What a wallboard tile shows, derived from one queue.figures event (src/acd/figures.ts): the
// same numbers GET /api/queues gives, plus the answer rate and whether each service level is
// at risk. Pure functions, so the tile and the test read the same arithmetic.
//
// At risk: a service level within AMBER_POINTS of its target (amber); below the target: red.
// The whole hotline's target per threshold is the strictest of the queues that have it (the
// overall figures carry none of their own). Its Erlang C "needed" is the sum over queues
// (agents who serve several queues are counted in each: an upper bound), against every agent
// logged in once.
import type { OverallFigures, QueueFigures } from './supervisor-types';

export const AMBER_POINTS = 2;

export type Risk = 'ok' | 'at-risk' | 'below' | 'none';

export interface LevelFigure {
  seconds: number;
  targetPercent: number;
  percent: number | null;
  /** Over the recent window (engineer H7's figures), when the controller gives it. */
  recentPercent?: number | null;
  risk: Risk;
}

export interface TileFigures {
  id: string;
  name: string;
  waitingNow: number;
  longestWaitNowSeconds: number;
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  /** answered ÷ offered, in percent (one decimal), or null before the first call. */
  answerRatePercent: number | null;
  levels: LevelFigure[];
  agents: Record<string, number>;
  erlang: { needed: number; loggedIn: number };
}

export function risk(percent: number | null | undefined, target: number): Risk {
  if (percent === null || percent === undefined) return 'none';
  if (percent < target) return 'below';
  if (percent < target + AMBER_POINTS) return 'at-risk';
  return 'ok';
}

/** The worse of two risks (a level is as bad as its worst window). */
export function worse(a: Risk, b: Risk): Risk {
  const order: Risk[] = ['none', 'ok', 'at-risk', 'below'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

function answerRate(answered: number, offered: number): number | null {
  return offered > 0 ? Math.round((1000 * answered) / offered) / 10 : null;
}

export function queueTile(q: QueueFigures, recent?: Record<number, number | null>): TileFigures {
  return {
    id: q.queue,
    name: q.name,
    waitingNow: q.waitingNow,
    longestWaitNowSeconds: q.longestWaitNowSeconds,
    offered: q.offered,
    answered: q.answered,
    abandoned: q.abandoned,
    shortAbandoned: q.shortAbandoned,
    answerRatePercent: answerRate(q.answered, q.offered),
    levels: q.serviceLevel.map((s) => level(s.seconds, s.targetPercent, s.percent, recent?.[s.seconds])),
    agents: q.agents,
    erlang: { needed: q.erlangC.agentsNeeded, loggedIn: q.erlangC.loggedIn },
  };
}

export function overallTile(
  o: OverallFigures,
  queues: QueueFigures[],
  name: string,
  recent?: Record<number, number | null>,
): TileFigures {
  const targetOf = (seconds: number): number =>
    Math.max(
      0,
      ...queues.flatMap((q) => q.serviceLevel.filter((s) => s.seconds === seconds).map((s) => s.targetPercent)),
    );
  return {
    id: '',
    name,
    waitingNow: o.waitingNow,
    longestWaitNowSeconds: o.longestWaitNowSeconds,
    offered: o.offered,
    answered: o.answered,
    abandoned: o.abandoned,
    shortAbandoned: o.shortAbandoned,
    answerRatePercent: answerRate(o.answered, o.offered),
    levels: o.serviceLevel.map((s) => level(s.seconds, targetOf(s.seconds), s.percent, recent?.[s.seconds])),
    agents: o.agents,
    erlang: {
      needed: queues.reduce((n, q) => n + q.erlangC.agentsNeeded, 0),
      loggedIn: Object.entries(o.agents)
        .filter(([state]) => state !== 'logged-out')
        .reduce((n, [, count]) => n + count, 0),
    },
  };
}

function level(seconds: number, targetPercent: number, percent: number | null, recent?: number | null): LevelFigure {
  const today = risk(percent, targetPercent);
  return {
    seconds,
    targetPercent,
    percent,
    ...(recent !== undefined ? { recentPercent: recent } : {}),
    risk: recent === undefined ? today : worse(today, risk(recent, targetPercent)),
  };
}

/** "m:ss" (or "h:mm:ss") of whole seconds. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** A percent as the wallboard writes it ("92.5%"), or "—" without data. */
export function percentText(p: number | null | undefined): string {
  return p === null || p === undefined ? '—' : `${Math.round(p * 10) / 10}%`;
}
