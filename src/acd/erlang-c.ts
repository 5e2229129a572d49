// Erlang C (M/M/N queue): the staffing arithmetic behind answer targets such as 95% within
// 15 s (GB/T 33358-2016) or the 97.7% within 10 s the best city reached. Traffic A = λ·AHT.

/** Probability that a caller has to wait at all, for N agents and A erlangs of traffic. */
export function probabilityOfWaiting(agents: number, traffic: number): number {
  if (traffic <= 0) return 0;
  if (agents <= traffic) return 1; // the queue grows without bound
  // Erlang B by its stable recurrence, then C from B.
  let b = 1;
  for (let k = 1; k <= agents; k++) b = (traffic * b) / (k + traffic * b);
  return b / (1 - (traffic / agents) * (1 - b));
}

export interface ErlangInput {
  /** Calls per second. */
  arrivalRate: number;
  /** Average handle time in seconds (talk + hold + wrap-up). */
  handleTime: number;
  agents: number;
}

/** Share of calls answered within `seconds`: 1 − C·e^(−(N−A)·t/AHT). */
export function serviceLevel({ arrivalRate, handleTime, agents }: ErlangInput, seconds: number): number {
  const traffic = arrivalRate * handleTime;
  if (traffic <= 0) return 1;
  if (agents <= traffic) return 0;
  const c = probabilityOfWaiting(agents, traffic);
  return 1 - c * Math.exp((-(agents - traffic) * seconds) / handleTime);
}

/** Average speed of answer in seconds: C·AHT / (N − A). */
export function averageSpeedOfAnswer({ arrivalRate, handleTime, agents }: ErlangInput): number {
  const traffic = arrivalRate * handleTime;
  if (traffic <= 0) return 0;
  if (agents <= traffic) return Number.POSITIVE_INFINITY;
  return (probabilityOfWaiting(agents, traffic) * handleTime) / (agents - traffic);
}

/** Fewest agents that meet `target` (0–1) within `seconds`; 0 when there is no traffic. */
export function agentsNeeded(
  arrivalRate: number,
  handleTime: number,
  seconds: number,
  target: number,
  maxAgents = 10_000,
): number {
  const traffic = arrivalRate * handleTime;
  if (traffic <= 0) return 0;
  for (let n = Math.max(1, Math.floor(traffic) + 1); n <= maxAgents; n++) {
    if (serviceLevel({ arrivalRate, handleTime, agents: n }, seconds) >= target) return n;
  }
  return maxAgents;
}
