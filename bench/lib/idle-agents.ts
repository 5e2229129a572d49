// What a freed agent does while callers wait (issue 17: "an agent left idle while a call
// waits" is a defect the bench must expose). From a load run's log: each call's arrival, first
// offer, and the agent who took it with that offer's time and the call's end. For every agent
// freed (their call ended) while a caller was waiting: the time until a waiting caller was
// offered. And every case where an agent sat free while a caller they could take waited longer
// than `idleMs` (one queue, one skill: any free agent could take any caller, as in bench:acd's
// load section).

export interface LoggedCall {
  id: string;
  queuedAt: number;
  /** The first time the call was offered to an agent; none: never offered. */
  firstOfferAt?: number;
  /** The agent who took it, when they were offered it, and when the call ended (they were freed). */
  agentId?: string;
  offeredAt?: number;
  endAt?: number;
}

export interface IdleAgent {
  agentId: string;
  /** The agent was free from `freeAt` until `nextOfferAt` (Infinity: no offer after). */
  freeAt: number;
  nextOfferAt: number;
  /** The caller who waited meanwhile, and for how long while the agent was free. */
  callId: string;
  waitedMs: number;
}

export interface FreedAgents {
  /** Agent freed while callers waited → the first of them offered (to this agent or another). */
  gapsMs: number[];
  idle: IdleAgent[];
}

export function freedAgents(calls: LoggedCall[], idleMs = 300): FreedAgents {
  // Each agent's calls in the order they were offered: free from one's end to the next's offer.
  // The controller may log the next offer before the hang-up that freed the agent (the offer
  // follows the wrap-up's end at once): then the agent was not free at all.
  const byAgent = new Map<string, LoggedCall[]>();
  for (const c of calls)
    if (c.agentId !== undefined && c.offeredAt !== undefined && c.endAt !== undefined)
      byAgent.set(c.agentId, [...(byAgent.get(c.agentId) ?? []), c]);
  const gapsMs: number[] = [];
  const idle: IdleAgent[] = [];
  for (const [agentId, taken] of byAgent) {
    taken.sort((a, b) => a.offeredAt! - b.offeredAt!);
    taken.forEach((c, k) => {
      const freeAt = c.endAt!;
      const nextOfferAt = taken[k + 1]?.offeredAt ?? Infinity;
      if (nextOfferAt <= freeAt) return;
      const waiting = calls.filter((w) => w.queuedAt <= freeAt && (w.firstOfferAt ?? Infinity) > freeAt);
      const firstServed = Math.min(...waiting.map((w) => w.firstOfferAt ?? Infinity));
      if (Number.isFinite(firstServed)) gapsMs.push(firstServed - freeAt);
      for (const w of calls) {
        // While this agent was free, w waited from `from` until it was offered (to anyone).
        const from = Math.max(freeAt, w.queuedAt);
        const until = Math.min(nextOfferAt, w.firstOfferAt ?? Infinity);
        if (until - from > idleMs) {
          idle.push({ agentId, freeAt, nextOfferAt, callId: w.id, waitedMs: until - from });
          break; // one caller is enough to say this agent sat idle
        }
      }
    });
  }
  return { gapsMs, idle };
}
