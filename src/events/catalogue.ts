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
// agent.state is sent for EVERY change of an agent's state, by every controller: each change
// is a Lua script of the router (src/acd/router.ts) that appends it to the Redis stream
// `<prefix>:agent-events`, and each controller tails that stream (src/acd/agent-state-feed.ts),
// so an agent connected to any controller sees a change made by any other. The desk's resync
// after a reconnect reads GET /api/agents/:id and GET /api/agents/:id/call (AgentCallView below).
//
// Not in the catalogue because they are not published: the ACD's internal 'dialer' channel
// (AcdService emits { task, reached, cause, causeText, callId } for the dialer's agent-first
// callbacks, src/dialer/service.ts listens), Redis pub/sub wake-ups between controllers, and
// call notes (call.note, kept on the call's record and logged, not streamed).
import type { AgentState } from '../acd/agent-state.js';
import type { OverallFigures, QueueFigures } from '../acd/figures.js';
import type { ScreenPop } from '../acd/screen-pop.js';
import type { Role } from '../api/auth.js';

export type { AgentState } from '../acd/agent-state.js';
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

/**
 * The emergency line answered and joined citizen and agent (a three-way call): the agent may hang
 * up and leave the citizen with it. `at` is when it joined.
 */
export type AgentEmergencyAnsweredEvent = {
  type: 'agent.emergency-answered';
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
 * An agent's state changed (log in, ready, not ready, the offer's reservation, on a call, wrap-up,
 * log out, or set by the controller itself after Redis lost its data: reason state-lost or
 * state-rebuilt). `since` is when the change was made (ISO), `previous` the state it left, and
 * `wrapUpUntil` when a wrap-up ends by itself. `reason` is the not-ready reason code (or '').
 * `callId` is the call the agent is on now, or the one this change took them off (a released
 * reservation, the end of a wrap-up).
 */
export type AgentStateEvent = {
  type: 'agent.state';
  agentId: string;
  state: AgentState;
  reason: string;
  callId?: string;
  since: string;
  previous?: AgentState;
  wrapUpUntil?: string;
};

/** Every second while anyone is connected: each queue's figures and the whole hotline's (the wallboard). */
export type QueueFiguresEvent = { type: 'queue.figures'; queues: QueueFigures[]; overall: OverallFigures };

/**
 * GET /api/agents/:id/call: the agent's current call, for the desk's resync after a reconnect
 * (`{ call: null }` when the agent is on none). ringing: offered to this agent (reserved);
 * talking: connected to them. `consult` is the consultation this agent started, if any.
 */
export interface AgentCallView {
  callId: string;
  queue: string;
  phase: 'ringing' | 'talking';
  held: boolean;
  muted: boolean;
  recordingPaused: boolean;
  /** ISO times: when the call was offered to this agent, and when they answered. */
  offeredAt: string;
  answeredAt?: string;
  consult?: { state: 'ringing' | 'talking' | 'conference'; with: string; mode?: 'attended' | 'blind' };
  /** An emergency hand-off under way: the line is being dialled, or has joined the call. */
  emergency?: { number: string; state: 'dialling' | 'joined' };
  /** The screen pop as agent.offer sent it (waitSeconds: the wait until the offer). */
  pop: ScreenPop & { tags?: string[]; callback?: boolean; transferredBy?: string };
}

// Service-level alerts (src/alerts/): they name no `agentId` (an agent-not-ready alert names its
// agent as `subjectAgent`), so they go to supervisors, ops and admins, never to agents. Each is
// told once however many controllers share the Redis (src/alerts/store.ts).
export type { ActiveAlert, AlertKind, AlertMessage, AlertSeverity, ClearedAlert } from '../alerts/types.js';
type ActiveAlert = import('../alerts/types.js').ActiveAlert;

/**
 * A rule's condition has held for its `for`: value against threshold, the rule's words in zh-CN
 * and en (`message`), `controller` for an ARI or AMI link. Acknowledgement is told apart.
 */
export type AlertFiredEvent = { type: 'alert.fired' } & Omit<ActiveAlert, 'acknowledgedBy' | 'acknowledgedAt'>;

/** The condition of an alert no longer holds (or its rule was removed). */
export type AlertClearedEvent = { type: 'alert.cleared'; alertId: string; rule: string; clearedAt: string };

/** Someone (supervisor, ops, admin) acknowledged an active alert; audited in `<prefix>:audit:alerts`. */
export type AlertAcknowledgedEvent = {
  type: 'alert.acknowledged';
  alertId: string;
  rule: string;
  by: string;
  /** Not `at`: the stream stamps every message with its own `at`. */
  acknowledgedAt: string;
};

/** What domains publish (through the notifier), as the stream sends it to whom it concerns. */
export type RexianEvent =
  | AlertFiredEvent
  | AlertClearedEvent
  | AlertAcknowledgedEvent
  | AgentOfferEvent
  | AgentOfferWithdrawnEvent
  | AgentCallEvent
  | AgentConsultEvent
  | AgentConsultFailedEvent
  | AgentTransferFailedEvent
  | AgentEmergencyEvent
  | AgentEmergencyAnsweredEvent
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
