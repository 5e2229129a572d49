// Live figures per queue: today's counters in Redis (one hash per queue and local day, so
// every controller adds to the same numbers) and the derived figures a wallboard shows.
//
// Service level within T = answered within T ÷ (answered + abandoned − short abandons):
// a caller who hung up before the short-abandon threshold never had a chance to be
// answered and is left out; every other abandon counts against the line. The answered-only
// variant (answered within T ÷ answered) is given too, as some cities report that one.
import { localTime } from '../ivr/calendar.js';
import type { Redis } from '../store/redis.js';
import { agentsNeeded, serviceLevel } from './erlang-c.js';
import type { QueueDefinition } from './queue-config.js';

/** Handle time assumed until a queue has handled calls today (seconds). */
const DEFAULT_HANDLE_TIME_S = 180;
/** Arrival rate is measured over this window. */
const ARRIVAL_WINDOW_MS = 15 * 60_000;

export interface QueueFigures {
  queue: string;
  name: string;
  date: string;
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  /** Left through the flow: waited too long, or nobody logged in. */
  leftQueue: number;
  overflowedOut: number;
  callbacksRequested: number;
  serviceLevel: Array<{
    seconds: number;
    targetPercent: number;
    answeredWithin: number;
    percent: number | null;
    answeredOnlyPercent: number | null;
  }>;
  formula: string;
  averageSpeedOfAnswerSeconds: number | null;
  longestAnsweredWaitSeconds: number;
  waitingNow: number;
  longestWaitNowSeconds: number;
  averageHandleTimeSeconds: number | null;
  agents: Record<string, number>;
  arrivalRatePerHour: number;
  erlangC: {
    agentsNeeded: number;
    predictedServiceLevelPercent: number | null;
    loggedIn: number;
    handleTimeSeconds: number;
  };
}

export class QueueStats {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(queue: string, at = new Date()): string {
    return `${this.prefix}:stats:${queue}:${localTime(at).date}`;
  }

  async offered(queue: string, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.key(queue, new Date(now)), 'offered', 1)
      .zadd(`${this.prefix}:queue:${queue}:arrivals`, now, `${now}-${Math.random().toString(36).slice(2, 8)}`)
      .zremrangebyscore(`${this.prefix}:queue:${queue}:arrivals`, '-inf', now - 4 * ARRIVAL_WINDOW_MS)
      .exec();
  }

  async answered(queue: QueueDefinition, waitMs: number): Promise<void> {
    const key = this.key(queue.id);
    const m = this.redis.multi().hincrby(key, 'answered', 1).hincrby(key, 'waitMs', Math.round(waitMs));
    for (const target of queue.targets)
      if (waitMs <= target.seconds * 1000) m.hincrby(key, `within:${target.seconds}`, 1);
    await m.exec();
    await this.max(key, 'longestAnsweredWaitMs', waitMs);
  }

  async abandoned(queue: QueueDefinition, waitMs: number): Promise<boolean> {
    const short = waitMs < queue.shortAbandonSeconds * 1000;
    const key = this.key(queue.id);
    const m = this.redis.multi().hincrby(key, 'abandoned', 1);
    if (short) m.hincrby(key, 'shortAbandoned', 1);
    await m.exec();
    return short;
  }

  async count(queue: string, field: 'leftQueue' | 'overflowedOut' | 'callbacksRequested'): Promise<void> {
    await this.redis.hincrby(this.key(queue), field, 1);
  }

  async handled(queue: string, talkMs: number, wrapMs: number): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.key(queue), 'handled', 1)
      .hincrby(this.key(queue), 'handleMs', Math.round(talkMs + wrapMs))
      .exec();
  }

  private async max(key: string, field: string, value: number): Promise<void> {
    const current = Number((await this.redis.hget(key, field)) ?? 0);
    if (value > current) await this.redis.hset(key, field, Math.round(value));
  }

  async figures(
    queue: QueueDefinition,
    agentStates: Record<string, number>,
    loggedIn: number,
    now = Date.now(),
  ): Promise<QueueFigures> {
    const [raw, waitingNow, oldest, arrivals] = await Promise.all([
      this.redis.hgetall(this.key(queue.id, new Date(now))),
      this.redis.zcard(`${this.prefix}:queue:${queue.id}:since`),
      this.redis.zrange(`${this.prefix}:queue:${queue.id}:since`, 0, 0, 'WITHSCORES'),
      this.redis.zcount(`${this.prefix}:queue:${queue.id}:arrivals`, now - ARRIVAL_WINDOW_MS, '+inf'),
    ]);
    const n = (field: string): number => Number(raw[field] ?? 0);
    const answered = n('answered');
    const abandoned = n('abandoned');
    const shortAbandoned = n('shortAbandoned');
    const denominator = answered + abandoned - shortAbandoned;
    const handled = n('handled');
    const handleTime = handled > 0 ? n('handleMs') / handled / 1000 : DEFAULT_HANDLE_TIME_S;
    const arrivalRate = arrivals / (ARRIVAL_WINDOW_MS / 1000);
    const first = queue.targets[0]!;
    const pct = (x: number, d: number): number | null => (d > 0 ? round((100 * x) / d) : null);
    return {
      queue: queue.id,
      name: queue.name,
      date: localTime(new Date(now)).date,
      offered: n('offered'),
      answered,
      abandoned,
      shortAbandoned,
      leftQueue: n('leftQueue'),
      overflowedOut: n('overflowedOut'),
      callbacksRequested: n('callbacksRequested'),
      serviceLevel: queue.targets.map((t) => ({
        seconds: t.seconds,
        targetPercent: t.percent,
        answeredWithin: n(`within:${t.seconds}`),
        percent: pct(n(`within:${t.seconds}`), denominator),
        answeredOnlyPercent: pct(n(`within:${t.seconds}`), answered),
      })),
      formula:
        'answered within T ÷ (answered + abandoned − short abandons); answeredOnlyPercent = answered within T ÷ answered',
      averageSpeedOfAnswerSeconds: answered > 0 ? round(n('waitMs') / answered / 1000) : null,
      longestAnsweredWaitSeconds: round(n('longestAnsweredWaitMs') / 1000),
      waitingNow,
      longestWaitNowSeconds: oldest[1] ? round((now - Number(oldest[1])) / 1000) : 0,
      averageHandleTimeSeconds: handled > 0 ? round(handleTime) : null,
      agents: agentStates,
      arrivalRatePerHour: round(arrivalRate * 3600),
      erlangC: {
        agentsNeeded: agentsNeeded(arrivalRate, handleTime, first.seconds, first.percent / 100),
        predictedServiceLevelPercent:
          arrivalRate > 0
            ? round(100 * serviceLevel({ arrivalRate, handleTime, agents: loggedIn }, first.seconds))
            : null,
        loggedIn,
        handleTimeSeconds: round(handleTime),
      },
    };
  }

  /** The queue's mean handle time today (talk and wrap-up, seconds); a default until it has handled calls. */
  async handleTimeSeconds(queue: string, now = Date.now()): Promise<number> {
    const raw = await this.redis.hmget(this.key(queue, new Date(now)), 'handled', 'handleMs');
    const handled = Number(raw[0] ?? 0);
    return handled > 0 ? Number(raw[1] ?? 0) / handled / 1000 : DEFAULT_HANDLE_TIME_S;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export interface OverallFigures {
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  leftQueue: number;
  waitingNow: number;
  longestWaitNowSeconds: number;
  /** Per threshold any queue targets: answered within it ÷ (answered + abandoned − short abandons) of those queues. */
  serviceLevel: Array<{ seconds: number; answeredWithin: number; percent: number | null }>;
  /** Every agent once, by state (a queue's figures count agents who serve several queues in each). */
  agents: Record<string, number>;
}

/** The whole hotline at once, for the wallboard: counts add up over queues, each agent once. */
export function overallFigures(queues: QueueFigures[], agents: Record<string, number>): OverallFigures {
  const sum = (f: (q: QueueFigures) => number): number => queues.reduce((n, q) => n + f(q), 0);
  const thresholds = [...new Set(queues.flatMap((q) => q.serviceLevel.map((s) => s.seconds)))].sort((a, b) => a - b);
  return {
    offered: sum((q) => q.offered),
    answered: sum((q) => q.answered),
    abandoned: sum((q) => q.abandoned),
    shortAbandoned: sum((q) => q.shortAbandoned),
    leftQueue: sum((q) => q.leftQueue),
    waitingNow: sum((q) => q.waitingNow),
    longestWaitNowSeconds: Math.max(0, ...queues.map((q) => q.longestWaitNowSeconds)),
    serviceLevel: thresholds.map((seconds) => {
      const within = queues.filter((q) => q.serviceLevel.some((s) => s.seconds === seconds));
      const answeredWithin = within.reduce(
        (n, q) => n + q.serviceLevel.find((s) => s.seconds === seconds)!.answeredWithin,
        0,
      );
      const base = within.reduce((n, q) => n + q.answered + q.abandoned - q.shortAbandoned, 0);
      return { seconds, answeredWithin, percent: base > 0 ? round((100 * answeredWithin) / base) : null };
    }),
    agents,
  };
}

/** Logged-in samples of a queue's agents for a Shanghai day: `<half hour>:sum` and `<half hour>:n`. */
export function staffingKey(prefix: string, queue: string, date: string): string {
  return `${prefix}:staffing:${date}:${queue}`;
}
