// The best any ACD could do with the same agents: a discrete-event simulation of an ideal,
// work-conserving queue that replays a benchmark's own calls (their arrival times, queues,
// priorities, talk times and patience) with zero set-up time. It follows rexian's routing
// rules exactly (src/acd/router.ts): the best waiting call across queues first (priority, then
// arrival), for it the queue's skills in order (overflow widens the list as the call waits), and
// for a skill the ready agent with the highest level, then the longest idle. A queue whose
// head found no agent blocks its later calls at that instant, as the router's script does.
// Nothing here is timed: it is arithmetic on the benchmark's recorded figures, so a call's
// measured wait minus its ideal wait is what rexian's own delays (ring, set-up, routing) cost.

export interface IdealAgent {
  id: string;
  /** Skill → level (higher is better), as in the roster. */
  skills: Record<string, number>;
  /** When the agent becomes ready (ms on the calls' clock); default 0. */
  readyAtMs?: number;
}

export interface IdealCall {
  id: string;
  queue: string;
  arrivalMs: number;
  /** Higher is served first (the queue's or the flow's priority). */
  priority?: number;
  /** How long the agent talks once connected. */
  talkMs: number;
  /** The caller hangs up after waiting this long; default: never. */
  patienceMs?: number;
}

export interface IdealQueueRule {
  /** Skills whose agents take this queue's calls, best first. */
  skills: string[];
  /** Overflow: after waiting `afterMs`, these skills are tried too (after the queue's own). */
  overflow?: Array<{ afterMs: number; skills: string[] }>;
  /** Wrap-up after each call of this queue before the agent is ready again; default 0. */
  wrapUpMs?: number;
}

export interface IdealOutcome {
  id: string;
  /** Time from arrival to connected (answered) or to hanging up (abandoned). */
  waitMs: number;
  answered: boolean;
  agentId?: string;
}

interface Waiting {
  call: IdealCall;
  priority: number;
  order: number;
}

interface AgentSlot {
  agent: IdealAgent;
  freeAtMs: number;
  busy: boolean;
}

/** Skills a call may use after waiting `waitedMs`: the queue's own, then each overflow step reached. */
export function skillsAfter(rule: IdealQueueRule, waitedMs: number): string[] {
  const out = [...rule.skills];
  for (const step of rule.overflow ?? [])
    if (waitedMs >= step.afterMs) for (const s of step.skills) if (!out.includes(s)) out.push(s);
  return out;
}

/**
 * Replays `calls` through the ideal queue. Every call gets one outcome, in the order given.
 * Throws on a call whose queue has no rule (a benchmark that forgot a queue would compare nothing).
 */
export function simulateIdealQueue(
  calls: IdealCall[],
  agents: IdealAgent[],
  rules: Record<string, IdealQueueRule>,
): IdealOutcome[] {
  for (const c of calls)
    if (!rules[c.queue]) throw new Error(`ideal queue: call ${c.id} names queue "${c.queue}", which has no rule`);
  // An agent who starts later is "busy" until then, so the loop wakes when they become ready.
  const slots: AgentSlot[] = agents.map((agent) => ({
    agent,
    freeAtMs: agent.readyAtMs ?? 0,
    busy: (agent.readyAtMs ?? 0) > 0,
  }));
  const arrivals = calls
    .map((call, order) => ({ call, order }))
    .sort((a, b) => a.call.arrivalMs - b.call.arrivalMs || a.order - b.order);
  const outcomes = new Map<string, IdealOutcome>();
  const waiting: Waiting[] = [];
  let next = 0;
  let now = 0;

  // Instants where something can change: an arrival, an agent freed, a caller's patience ending,
  // an overflow step reached. The loop jumps from one to the next.
  const nextInstant = (): number => {
    let t = Infinity;
    if (next < arrivals.length) t = Math.min(t, arrivals[next]!.call.arrivalMs);
    for (const s of slots) if (s.freeAtMs > now) t = Math.min(t, s.freeAtMs);
    for (const w of waiting) {
      if (w.call.patienceMs !== undefined) t = Math.min(t, w.call.arrivalMs + w.call.patienceMs);
      for (const step of rules[w.call.queue]!.overflow ?? []) {
        const at = w.call.arrivalMs + step.afterMs;
        if (at > now) t = Math.min(t, at);
      }
    }
    return t;
  };

  while (next < arrivals.length || waiting.length > 0) {
    const t = nextInstant();
    if (t === Infinity) break; // callers waiting for skills nobody has, and no patience: they wait forever
    now = Math.max(now, t);
    for (const s of slots) if (s.busy && s.freeAtMs <= now) s.busy = false;
    while (next < arrivals.length && arrivals[next]!.call.arrivalMs <= now) {
      const { call, order } = arrivals[next++]!;
      waiting.push({ call, priority: call.priority ?? 0, order });
    }
    // Callers whose patience ran out leave before anyone is matched at this instant (the
    // router does not see a hung-up call).
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!;
      if (w.call.patienceMs !== undefined && w.call.arrivalMs + w.call.patienceMs <= now) {
        outcomes.set(w.call.id, { id: w.call.id, waitMs: w.call.patienceMs, answered: false });
        waiting.splice(i, 1);
      }
    }
    match(now, waiting, slots, rules, outcomes);
  }
  for (const w of waiting) outcomes.set(w.call.id, { id: w.call.id, waitMs: Infinity, answered: false });
  return calls.map((c) => outcomes.get(c.id)!);
}

function match(
  now: number,
  waiting: Waiting[],
  slots: AgentSlot[],
  rules: Record<string, IdealQueueRule>,
  outcomes: Map<string, IdealOutcome>,
): void {
  waiting.sort((a, b) => b.priority - a.priority || a.call.arrivalMs - b.call.arrivalMs || a.order - b.order);
  const blocked = new Set<string>();
  for (let i = 0; i < waiting.length;) {
    const w = waiting[i]!;
    if (blocked.has(w.call.queue)) {
      i++;
      continue;
    }
    const rule = rules[w.call.queue]!;
    let chosen: AgentSlot | undefined;
    for (const skill of skillsAfter(rule, now - w.call.arrivalMs)) {
      chosen = bestReady(slots, skill);
      if (chosen) break;
    }
    if (!chosen) {
      blocked.add(w.call.queue);
      i++;
      continue;
    }
    chosen.busy = true;
    chosen.freeAtMs = now + w.call.talkMs + (rule.wrapUpMs ?? 0);
    outcomes.set(w.call.id, {
      id: w.call.id,
      waitMs: now - w.call.arrivalMs,
      answered: true,
      agentId: chosen.agent.id,
    });
    waiting.splice(i, 1);
  }
}

/** The ready agent with `skill`: highest level, then longest idle (earliest freed), then roster order. */
function bestReady(slots: AgentSlot[], skill: string): AgentSlot | undefined {
  let best: AgentSlot | undefined;
  for (const s of slots) {
    if (s.busy) continue;
    const level = s.agent.skills[skill];
    if (level === undefined) continue;
    if (!best) {
      best = s;
      continue;
    }
    const bestLevel = best.agent.skills[skill]!;
    if (level > bestLevel || (level === bestLevel && s.freeAtMs < best.freeAtMs)) best = s;
  }
  return best;
}

export interface ExcessWait {
  calls: number;
  meanMs: number;
  p99Ms: number;
  serviceLevelMeasured: number;
  serviceLevelIdeal: number;
}

/**
 * Call by call: the measured wait minus the ideal wait of every call answered in both runs, and
 * the service level (answered within `thresholdMs` over all calls offered) of each run.
 */
export function compareWithIdeal(
  measured: Array<{ id: string; waitMs: number; answered: boolean }>,
  ideal: IdealOutcome[],
  thresholdMs: number,
): ExcessWait {
  const byId = new Map(ideal.map((o) => [o.id, o]));
  const excess: number[] = [];
  for (const m of measured) {
    const i = byId.get(m.id);
    if (i && m.answered && i.answered) excess.push(m.waitMs - i.waitMs);
  }
  const within = (xs: Array<{ waitMs: number; answered: boolean }>): number =>
    xs.length === 0 ? NaN : xs.filter((x) => x.answered && x.waitMs <= thresholdMs).length / xs.length;
  const sorted = [...excess].sort((a, b) => a - b);
  return {
    calls: excess.length,
    meanMs: excess.length ? excess.reduce((a, b) => a + b, 0) / excess.length : NaN,
    p99Ms: sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! : NaN,
    serviceLevelMeasured: within(measured),
    serviceLevelIdeal: within(ideal),
  };
}
