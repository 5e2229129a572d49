// When a `whenPredictedBelowTarget` overflow rule acts: from the queue as it is now, not from
// a quarter-hour average. Each waiting caller's answer by the queue's own agents is predicted
// from their place in line and the agents serving the queue: with every one of the n agents
// busy and handle times of mean h, agents free up as a Poisson stream of rate n/h (memoryless,
// the Erlang C assumption), so the caller k-th in line is reached at the k-th freeing, an
// Erlang(k, n/h) time. A caller is predicted to miss the queue's first target when the median
// of that time, added to what they have waited and to the ring of the answering phone, passes
// the target: more likely late than not. Then the rule acts, while the overflow agents can
// still answer in time; and not before, so a specialist freeing in time keeps the call.
// The earlier rule (an Erlang C service level of the last 15 minutes' arrivals, below the
// target) missed both ways: blind to a burst until the window filled, and, once below,
// overflowing every caller from their first second.

/** What a ringing phone and the bridge set-up take before the caller hears the agent. */
export const RING_MARGIN_MS = 1_000;

/** P(Erlang(k, rate) ≤ t): the k-th event of a Poisson stream of this rate comes within t. */
export function erlangCdf(k: number, rate: number, t: number): number {
  if (t <= 0) return 0;
  const x = rate * t;
  let term = Math.exp(-x);
  let sum = term;
  for (let i = 1; i < k; i++) {
    term *= x / i;
    sum += term;
  }
  return Math.max(0, 1 - sum);
}

/** The median of Erlang(k, rate) (seconds when rate is per second), by bisection. */
export function erlangMedian(k: number, rate: number): number {
  let lo = 0;
  let hi = (k + 3 * Math.sqrt(k) + 1) / rate;
  while (erlangCdf(k, rate, hi) < 0.5) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (erlangCdf(k, rate, mid) < 0.5) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface QueueNow {
  /** Arrival times (ms) of the callers waiting for an offer, first in line first. */
  waitingSince: number[];
  /** The queue's own agents logged in (ready ones would have taken the callers already). */
  agents: number;
  /** Mean handle time of the queue's calls (s). */
  handleTimeS: number;
  /** The queue's first target, in seconds. */
  targetS: number;
}

export interface OverflowPrediction {
  /** The callers predicted to miss the target: their places in `waitingSince` (0 = first in line). */
  late: number[];
  /** When the next caller not yet predicted to miss will be (ms, epoch), to route again then. */
  nextAt?: number;
}

/** Which waiting callers the queue's own agents are predicted not to reach within its target. */
export function predictOverflow(q: QueueNow, now: number): OverflowPrediction {
  // No agent of its own at all: nobody is reached, every caller overflows.
  if (q.agents <= 0) return { late: q.waitingSince.map((_, i) => i) };
  const rate = q.agents / Math.max(1, q.handleTimeS);
  const late: number[] = [];
  let nextAt: number | undefined;
  q.waitingSince.forEach((since, i) => {
    // The latest instant the caller can still be overflowed and answered by the target.
    const lastChance = since + q.targetS * 1000 - RING_MARGIN_MS - erlangMedian(i + 1, rate) * 1000;
    if (lastChance <= now) late.push(i);
    else nextAt = Math.min(nextAt ?? lastChance, lastChance);
  });
  return { late, ...(nextAt !== undefined ? { nextAt } : {}) };
}
