// The agent's current call as the desk shows it (GET /api/agents/:id/call): what a page that
// reconnected needs to draw the call again without having seen its events: ringing or talking,
// held, muted, recording paused, the consultation under way, and the screen pop as the offer
// sent it. Read from the agent's Redis hash (which call) and the call's live ACD slot on the
// controller that holds it; the route forwards to that controller when it is another.
// Rules: the pop is built by the ACD's own popFor (the same masking as the offer); an agent is
// shown only a call they have a part in (offered to them, talking to them, or consulted).
import type { Call } from '../calls/call.js';
import type { AgentCallView } from '../events/catalogue.js';
import type { AgentState } from './agent-state.js';
import { type ScreenPop, screenPop } from './screen-pop.js';
import type { AcdService } from './service.js';

type AcdCallState = NonNullable<ReturnType<AcdService['state']>>;

/** What the agent's hash says: a call only while reserved for it or on it. */
export interface AgentOnCall {
  agentId: string;
  state: Extract<AgentState, 'reserved' | 'on-call'>;
  callId: string;
  /** When the agent's state last changed (ms): the reservation's time, before the offer is saved. */
  since?: number;
}

const tenths = (ms: number): number => Math.round(Math.max(0, ms) / 100) / 10;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The view of a call for one agent, from the ACD's slot on it and the screen pop. Pure.
 * undefined when the agent has no part in the call (the slot names another agent and no
 * consultation of them, while the hash says they are on it).
 */
export function agentCallView(
  agent: AgentOnCall,
  call: { id: string; kind?: string },
  acd: AcdCallState,
  pop: ScreenPop,
): AgentCallView | undefined {
  const consult = acd.consult;
  const recordingPaused = acd.recordingPaused ?? false;
  if (consult?.kind === 'agent' && consult.target === agent.agentId && acd.agentId !== agent.agentId) {
    // Consulted (or a blind transfer ringing them): the consulting agent holds the citizen.
    return {
      callId: call.id,
      queue: acd.origin,
      phase: consult.answered && agent.state === 'on-call' ? 'talking' : 'ringing',
      held: false,
      muted: false,
      recordingPaused,
      offeredAt: iso(consult.startedAt),
      pop: { ...pop, waitSeconds: tenths(consult.startedAt - acd.enqueuedAt), transferredBy: consult.fromAgent },
    };
  }
  const mine = acd.agentId === agent.agentId;
  // Reserved by the router, the offer not saved yet: ringing in a moment.
  if (!mine && agent.state !== 'reserved') return undefined;
  const offeredAt = (mine ? acd.offeredAt : undefined) ?? agent.since ?? Date.now();
  const talking = mine && agent.state === 'on-call';
  const ownConsult = mine && consult && consult.fromAgent === agent.agentId && acd.phase !== 'transferring';
  return {
    callId: call.id,
    queue: acd.queue,
    phase: talking ? 'talking' : 'ringing',
    held: mine && (acd.held ?? false),
    muted: mine && (acd.muted ?? false),
    recordingPaused,
    offeredAt: iso(offeredAt),
    ...(talking && acd.answeredAt !== undefined ? { answeredAt: iso(acd.answeredAt) } : {}),
    ...(mine && acd.emergencyLeg && acd.emergencyNumber
      ? { emergency: { number: acd.emergencyNumber, state: acd.emergencyJoined ? 'joined' : 'dialling' } }
      : {}),
    ...(ownConsult
      ? {
          consult: {
            state: consult.conference ? 'conference' : consult.answered ? 'talking' : 'ringing',
            with: consult.label,
            mode: consult.mode,
          },
        }
      : {}),
    pop: {
      ...pop,
      waitSeconds: tenths(offeredAt - acd.enqueuedAt),
      tags: acd.tags ?? [],
      callback: call.kind === 'callback',
    },
  };
}

export class AgentCallViews {
  constructor(private readonly acd: AcdService) {}

  /**
   * The agent's call if this controller holds it: `{ view }` (null when the agent has no part
   * in it any more), or undefined when the call is not here.
   */
  here(agent: AgentOnCall): { view: AgentCallView | null } | undefined {
    const call = this.find(agent);
    if (!call) return undefined;
    const state = this.acd.state(call);
    if (!state) return { view: null };
    return { view: agentCallView(agent, { id: call.id, kind: call.state.kind }, state, this.pop(call, state)) ?? null };
  }

  /** The controller that holds the agent's call, when it is another one (to forward to). */
  async heldBy(agent: AgentOnCall): Promise<{ controller: string; callId: string } | undefined> {
    const calls = this.acd.calls;
    const own = await calls.store.load(agent.callId);
    if (own?.owner && own.owner !== calls.controllerId) return { controller: own.owner, callId: own.callId };
    if (own) return undefined;
    // A queue callback: the hash names the queue entry, the live call is the entry's callback call.
    const callback = (await calls.store.allLive()).find(
      (c) => c.callId.startsWith(`${agent.callId}-cb`) && c.owner && c.owner !== calls.controllerId,
    );
    return callback ? { controller: callback.owner!, callId: callback.callId } : undefined;
  }

  private find(agent: AgentOnCall): Call | undefined {
    const calls = this.acd.calls;
    const direct = calls.get(agent.callId);
    if (direct) return direct;
    return calls.list().find((c) => {
      const s = this.acd.state(c);
      return s?.originCallId === agent.callId && s.agentId === agent.agentId;
    });
  }

  /** The pop as the offer built it; a queue removed from the file since shows the caller masked. */
  private pop(call: Call, state: AcdCallState): ScreenPop {
    for (const id of [state.queue, state.origin]) {
      try {
        return this.acd.popFor(call, state, this.acd.queue(id));
      } catch {
        // unknown queue: try the next
      }
    }
    return screenPop({
      did: call.state.did,
      caller: call.state.caller,
      ivr: state.ivr,
      waitMs: 0,
      policy: 'masked',
    });
  }
}
