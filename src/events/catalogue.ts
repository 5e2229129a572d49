// The catalogue of what rexian publishes on its event stream (/api/events): one
// discriminated union on `type`, the only shapes the stream sends. Domains publish through
// the notifier (./notifier.ts, one method per event); the stream (src/api/events.ts) takes
// these types; the pages import them type-only (web/shared/events.ts), so the controller
// and its clients cannot drift. The JSON on the wire is each event as written here plus
// `at` (ISO time the stream sent it), a masked call's numbers masked once more on the way out.
//
// Who receives an event (src/api/events.ts visibleTo): an event naming `agentId` goes to
// that agent, to supervisors of the agent's team, and to ops and admins; an event naming no
// agent (queue.figures) goes to supervisors, ops and admins, never to agents.
//
// Not in the catalogue because they are not published: the ACD's internal 'dialer' channel
// (AcdService emits { task, reached, cause, causeText, callId } for the dialer's agent-first
// callbacks, src/dialer/service.ts listens), Redis pub/sub wake-ups between controllers, and
// call notes (call.note, kept on the call's record and logged, not streamed).
import type { AgentState } from '../acd/agent-state.js';
import type { OverallFigures, QueueFigures } from '../acd/figures.js';
import type { ScreenPop } from '../acd/screen-pop.js';
import type { Role } from '../api/auth.js';

export type { AgentState } from '../acd/agents.js';
export type { OverallFigures, QueueFigures } from '../acd/figures.js';
export type { ScreenPop } from '../acd/screen-pop.js';

/**
 * A call rings an agent (ACD offer, a queue callback, or a consulted agent): the screen pop.
 * `tags` and `callback` are absent on a consultation's offer, which names `transferredBy`.
 */
export type AgentOfferEvent = {
  type: 'agent.offer';
  agentId: string;
  callId: string;
  queue: string;
  tags?: string[];
  callback?: boolean;
  transferredBy?: string;
} & ScreenPop;

/** The offered agent did not answer (ring-no-answer, busy, unreachable): the call goes back to its place. */
export type AgentOfferWithdrawnEvent = {
  type: 'agent.offer-withdrawn';
  agentId: string;
  callId: string;
  cause: string;
};

/**
 * The agent's side of a call changed: put on hold, back talking, muted, or released from the call
 * (`why`: transfer, hang-up …).
 */
export type AgentCallEvent = {
  type: 'agent.call';
  agentId: string;
  callId: string;
  state: 'held' | 'talking' | 'muted' | 'released';
  why?: string;
};

/**
 * A consultation's progress for the consulting agent: ringing the other side (with `mode`), talking
 * to it, all three together, or the other side left.
 */
export type AgentConsultEvent = {
  type: 'agent.consult';
  agentId: string;
  callId: string;
  state: 'ringing' | 'talking' | 'conference' | 'ended';
  with: string;
  mode?: 'attended' | 'blind';
};

/** The consulted party never answered (no answer, busy …): the citizen is back with the agent. */
export type AgentConsultFailedEvent = {
  type: 'agent.consult-failed';
  agentId: string;
  callId: string;
  with: string;
  cause: string;
};

/** A blind transfer failed after the agent left: told to the agent who transferred; the citizen is queued again. */
export type AgentTransferFailedEvent = {
  type: 'agent.transfer-failed';
  agentId: string;
  callId: string;
  with: string;
  cause: string;
};

/** The agent handed the call to an emergency line (110/119/120): dialled at `at`. */
export type AgentEmergencyEvent = {
  type: 'agent.emergency';
  agentId: string;
  callId: string;
  number: string;
  at: string;
};

/** The emergency line did not answer: the citizen stays with the agent. */
export type AgentEmergencyFailedEvent = {
  type: 'agent.emergency-failed';
  agentId: string;
  callId: string;
  number: string;
  cause: string;
};

/**
 * An agent's state was set by the controller itself after Redis lost its data (rebuilt on-call, or
 * logged-out with reason state-lost).
 */
export type AgentStateEvent = {
  type: 'agent.state';
  agentId: string;
  state: AgentState;
  reason: string;
  callId?: string;
};

/** Every second while anyone is connected: each queue's figures and the whole hotline's (the wallboard). */
export type QueueFiguresEvent = { type: 'queue.figures'; queues: QueueFigures[]; overall: OverallFigures };

/** What domains publish (through the notifier), as the stream sends it to whom it concerns. */
export type RexianEvent =
  | AgentOfferEvent
  | AgentOfferWithdrawnEvent
  | AgentCallEvent
  | AgentConsultEvent
  | AgentConsultFailedEvent
  | AgentTransferFailedEvent
  | AgentEmergencyEvent
  | AgentEmergencyFailedEvent
  | AgentStateEvent
  | QueueFiguresEvent;

export type RexianEventType = RexianEvent['type'];

/** The stream's own messages to one client: the greeting on connect, and the refusal of anything a client sends. */
export type StreamHello = { type: 'hello'; as: { name: string; role: Role }; at: string };
export type StreamError = { type: 'error'; error: { code: string; message: string } };

/** Everything a client of /api/events receives: a published event stamped with `at`, or the stream's own messages. */
export type StreamMessage = (RexianEvent & { at: string }) | StreamHello | StreamError;

/** The event of a type as a domain publishes it, e.g. `EventOf<'agent.offer'>`. */
export type EventOf<T extends RexianEventType> = Extract<RexianEvent, { type: T }>;

/** A message of a type as a client receives it, e.g. `MessageOf<'agent.offer'>` (with `at`). */
export type MessageOf<T extends StreamMessage['type']> = Extract<StreamMessage, { type: T }>;
