// The alert decision, pure: given the rules, the live figures of this second and what was
// holding before, which alerts fire and which clear. No Redis, no clock, no I/O, so every
// case is a unit test (test/unit/alerts-evaluate.test.ts).
//
// Each rule gives conditions (one per rule, or one per agent, or one per controller for the
// connections), each named by a key. A condition that starts to hold is remembered with when;
// once it has held for the rule's `for` it fires, once. While it keeps holding nothing more is
// said (no re-fire while active); when it stops holding it clears (if it had fired) or is
// forgotten (if it had not yet held long enough). A rule removed by a reload clears its alerts.
import type { AlertRule } from './rules.js';
import { outboxGrowing, type OutboxTrend, type WindowServiceLevel } from './window.js';

/** The figures of one second, as the controller has them (the stream's queue.figures and the agents). */
export interface LiveView {
  now: number;
  /** The controller this evaluation runs on (connection alerts are about it). */
  controllerId: string;
  queues: Array<{
    queue: string;
    name: string;
    waitingNow: number;
    longestWaitNowSeconds: number;
    /** The queue's agents by state. */
    agents: Record<string, number>;
  }>;
  /** Every agent once. `since`: when their state began (ISO). */
  agents: Array<{ id: string; state: string; reason: string; since: string | null }>;
  ariConnected: boolean;
  amiConnected: boolean;
  outboxLength: number;
  outbox: OutboxTrend | undefined;
  /** Service level over a recent window (./window.ts). */
  recent: (minutes: number, seconds: number, queue?: string) => WindowServiceLevel;
}

/** A condition that holds now. */
export interface Observation {
  key: string;
  rule: AlertRule;
  value: number;
  threshold: number;
  queue?: string;
  subjectAgent?: string;
  controller?: string;
}

export interface HoldState {
  /** When the condition began to hold (ms). */
  since: number;
  /** Whether it has fired (and not cleared since). */
  active: boolean;
}

export interface Evaluation {
  state: Map<string, HoldState>;
  fire: Observation[];
  /** Keys of alerts whose condition no longer holds. */
  clear: string[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The conditions that hold now. */
export function observe(rules: AlertRule[], live: LiveView): Observation[] {
  const out: Observation[] = [];
  for (const rule of rules) {
    const queue = rule.queue !== undefined ? live.queues.find((q) => q.queue === rule.queue) : undefined;
    if (rule.queue !== undefined && !queue) continue; // a queue not loaded now has no figures
    const scoped = { ...(rule.queue !== undefined ? { queue: rule.queue } : {}) };
    const waiting = queue ? queue.waitingNow : live.queues.reduce((n, q) => n + q.waitingNow, 0);
    switch (rule.kind) {
      case 'service-level': {
        const sl = live.recent(rule.minutes!, rule.seconds!, rule.queue);
        if (sl.percent !== null && sl.calls >= (rule.minCalls ?? 1) && sl.percent < rule.belowPercent!)
          out.push({ key: rule.id, rule, value: sl.percent, threshold: rule.belowPercent!, ...scoped });
        break;
      }
      case 'longest-wait': {
        const longest = queue
          ? queue.longestWaitNowSeconds
          : Math.max(0, ...live.queues.map((q) => q.longestWaitNowSeconds));
        if (longest > rule.aboveSeconds!)
          out.push({ key: rule.id, rule, value: longest, threshold: rule.aboveSeconds!, ...scoped });
        break;
      }
      case 'waiting-no-agent-ready': {
        const ready = queue ? (queue.agents.ready ?? 0) : live.agents.filter((a) => a.state === 'ready').length;
        if (waiting > 0 && ready === 0) out.push({ key: rule.id, rule, value: waiting, threshold: 0, ...scoped });
        break;
      }
      case 'agent-not-ready':
        for (const a of live.agents) {
          if (a.state !== 'not-ready' || a.since === null) continue;
          if (rule.reasons && !rule.reasons.includes(a.reason)) continue;
          const minutes = (live.now - Date.parse(a.since)) / 60_000;
          if (minutes >= rule.minutes!)
            out.push({
              key: `${rule.id}|agent:${a.id}`,
              rule,
              value: round1(minutes),
              threshold: rule.minutes!,
              subjectAgent: a.id,
            });
        }
        break;
      case 'outbox-length':
        if (live.outboxLength > rule.above!)
          out.push({ key: rule.id, rule, value: live.outboxLength, threshold: rule.above! });
        break;
      case 'outbox-growing':
        if (outboxGrowing(live.outbox, live.now, rule.minutes!))
          out.push({ key: rule.id, rule, value: live.outboxLength, threshold: rule.minutes! });
        break;
      case 'ari-disconnected':
      case 'ami-disconnected': {
        const up = rule.kind === 'ari-disconnected' ? live.ariConnected : live.amiConnected;
        if (!up)
          out.push({
            key: `${rule.id}|controller:${live.controllerId}`,
            rule,
            value: 0,
            threshold: 1,
            controller: live.controllerId,
          });
        break;
      }
    }
  }
  return out;
}

/** One second's step: what fires, what clears, and the state to keep for the next second. */
export function evaluate(rules: AlertRule[], live: LiveView, before: ReadonlyMap<string, HoldState>): Evaluation {
  const state = new Map<string, HoldState>();
  const fire: Observation[] = [];
  for (const o of observe(rules, live)) {
    const held = before.get(o.key) ?? { since: live.now, active: false };
    const next = { ...held };
    if (!held.active && live.now - held.since >= o.rule.forSeconds * 1000) {
      next.active = true;
      fire.push(o);
    }
    state.set(o.key, next);
  }
  const clear = [...before].filter(([key, held]) => held.active && !state.has(key)).map(([key]) => key);
  return { state, fire, clear };
}
