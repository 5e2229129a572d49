// Every agent's state change, made by any controller, onto this controller's event stream as
// agent.state. Each change is one of the router's Lua scripts (./router.ts), which appends it
// to the Redis stream `<prefix>:agent-events` in the same atomic step; this feed tails that
// stream on a connection of its own (a blocking read holds its connection) and hands each entry
// to the notifier. So an agent whose desk talks to controller A sees the offer controller B
// reserved them for, and nobody has to remember to publish a change at each call site.
// Rules: start at the stream's end (a restart does not replay the day); after a lost connection,
// go on from the last entry told (none twice, none skipped); never stop until stop(). The tailing
// itself is ../store/stream-tail.ts, shared with the alert feed.
import type { Logger } from 'pino';

import type { EventNotifier } from '../events/notifier.js';
import type { Redis } from '../store/redis.js';
import { StreamTail } from '../store/stream-tail.js';
import type { AgentState } from './agent-state.js';

const STATES: ReadonlySet<string> = new Set<AgentState>([
  'logged-out',
  'ready',
  'not-ready',
  'reserved',
  'on-call',
  'wrap-up',
]);

/** One change as the stream keeps it, in the terms of the agent.state event. */
export interface AgentStateChange {
  agentId: string;
  state: AgentState;
  reason: string;
  callId?: string;
  since: string;
  previous?: AgentState;
  wrapUpUntil?: string;
}

/**
 * An entry of the agent-events stream (field, value, field, value …) as the change it records;
 * undefined for an entry that records none (no agent, a state this version does not know).
 */
export function changeFromEntry(fields: string[]): AgentStateChange | undefined {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  if (!f.agent || !f.state || !STATES.has(f.state)) return undefined;
  const iso = (ms: string | undefined): string | undefined =>
    ms && Number.isFinite(Number(ms)) ? new Date(Number(ms)).toISOString() : undefined;
  return {
    agentId: f.agent,
    state: f.state as AgentState,
    reason: f.reason ?? '',
    // The call the agent is on now, or the one this change took them off.
    ...(f.call || f.previousCall ? { callId: f.call || f.previousCall } : {}),
    since: iso(f.at) ?? new Date().toISOString(),
    ...(f.previous && STATES.has(f.previous) ? { previous: f.previous as AgentState } : {}),
    ...(iso(f.wrapUntil) ? { wrapUpUntil: iso(f.wrapUntil)! } : {}),
  };
}

export interface AgentStateFeedDeps {
  redis: Redis;
  prefix: string;
  notifier: EventNotifier;
  logger: Logger;
  /** How long one blocking read waits for an entry (ms); stop() does not wait for it. */
  blockMs?: number;
}

export class AgentStateFeed {
  private readonly tail: StreamTail;
  /** Entries told since start (for logs and tests). */
  told = 0;

  constructor(private readonly deps: AgentStateFeedDeps) {
    const logger = deps.logger.child({ domain: 'acd', part: 'agent-state-feed' });
    this.tail = new StreamTail({
      redis: deps.redis,
      key: `${deps.prefix}:agent-events`,
      connectionName: `agent-state-feed:${deps.prefix}`,
      logger,
      what: 'agent changes',
      whileAway: 'agents are told once it is back',
      ...(deps.blockMs !== undefined ? { blockMs: deps.blockMs } : {}),
      onEntry: (fields, reader) => this.tell(fields, reader),
    });
  }

  /** Starts tailing; returns at once (Redis may be down: the feed waits for it). */
  start(): void {
    this.tail.start();
  }

  stop(): Promise<void> {
    return this.tail.stop();
  }

  private async tell(fields: string[], reader: Redis): Promise<void> {
    const change = changeFromEntry(fields);
    if (!change) return;
    if (change.state === 'wrap-up' && !change.wrapUpUntil) {
      // An entry written without the wrap-up's end (an older controller): the agent's hash has it.
      const until = await reader.hget(`${this.deps.prefix}:agent:${change.agentId}`, 'wrapUntil').catch(() => null);
      if (until && Number(until) > 0) change.wrapUpUntil = new Date(Number(until)).toISOString();
    }
    const { agentId, state, reason, callId, ...rest } = change;
    this.deps.notifier.agentState(agentId, state, reason, callId, rest);
    this.told++;
  }
}
