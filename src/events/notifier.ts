// The notifier: how domains publish to the event stream, one method per event of the
// catalogue (./catalogue.ts), as wazo-calld's notifier.py does. A domain gets the notifier
// in its deps and says what happened (`notifier.agentOffer(...)`); it never builds an
// event's JSON or names its type string, so what goes out is always a catalogued shape.
// The notifier hands each event to its sinks (server.ts connects the stream, src/api/events.ts);
// with no sink (tests, a controller before the stream is up) events go nowhere.
import type {
  AgentCallEvent,
  AgentConsultEvent,
  AgentOfferEvent,
  AgentState,
  OverallFigures,
  QueueFigures,
  RexianEvent,
} from './catalogue.js';

export type EventSink = (event: RexianEvent) => void;

export class EventNotifier {
  private readonly sinks = new Map<EventSink, () => boolean>();

  /**
   * Sends every published event to `sink` as well; returns the way to stop. `listening` says
   * whether the sink has anyone to tell now (the stream: any client connected).
   */
  subscribe(sink: EventSink, listening: () => boolean = () => true): () => void {
    this.sinks.set(sink, listening);
    return () => this.sinks.delete(sink);
  }

  /** Whether an event published now would reach anyone: an event that costs work to build can wait. */
  get listened(): boolean {
    for (const listening of this.sinks.values()) if (listening()) return true;
    return false;
  }

  /** A call rings an agent: the screen pop (ACD offer, queue callback, consulted agent). */
  agentOffer(offer: Omit<AgentOfferEvent, 'type'>): void {
    this.publish({ type: 'agent.offer', ...offer });
  }

  /** The offered agent did not answer; the call went back to its place. */
  agentOfferWithdrawn(agentId: string, callId: string, cause: string): void {
    this.publish({ type: 'agent.offer-withdrawn', agentId, callId, cause });
  }

  /** The agent's side of the call: held, talking, muted, or released (with why). */
  agentCall(agentId: string, callId: string, state: AgentCallEvent['state'], why?: string): void {
    this.publish({ type: 'agent.call', agentId, callId, state, ...(why !== undefined ? { why } : {}) });
  }

  /** A consultation's progress, for the consulting agent (`mode` when it starts ringing). */
  agentConsult(
    agentId: string,
    callId: string,
    state: AgentConsultEvent['state'],
    withParty: string,
    mode?: AgentConsultEvent['mode'],
  ): void {
    this.publish({
      type: 'agent.consult',
      agentId,
      callId,
      state,
      with: withParty,
      ...(mode !== undefined ? { mode } : {}),
    });
  }

  /** The consulted party did not answer; the citizen is back with the agent. */
  agentConsultFailed(agentId: string, callId: string, withParty: string, cause: string): void {
    this.publish({ type: 'agent.consult-failed', agentId, callId, with: withParty, cause });
  }

  /** A blind transfer failed after the agent left; told to the agent who transferred. */
  agentTransferFailed(agentId: string, callId: string, withParty: string, cause: string): void {
    this.publish({ type: 'agent.transfer-failed', agentId, callId, with: withParty, cause });
  }

  /** The agent handed the call to an emergency line. */
  agentEmergency(agentId: string, callId: string, number: string, at: string): void {
    this.publish({ type: 'agent.emergency', agentId, callId, number, at });
  }

  /** The emergency line answered and joined the call. */
  agentEmergencyAnswered(agentId: string, callId: string, number: string, at: string): void {
    this.publish({ type: 'agent.emergency-answered', agentId, callId, number, at });
  }

  /** The emergency line did not answer. */
  agentEmergencyFailed(agentId: string, callId: string, number: string, cause: string): void {
    this.publish({ type: 'agent.emergency-failed', agentId, callId, number, cause });
  }

  /**
   * An agent's state changed. The agent-state feed (src/acd/agent-state-feed.ts) calls it for
   * every change any controller made, with when (`since`), the state left and the wrap-up's end;
   * `since` defaults to now.
   */
  agentState(
    agentId: string,
    state: AgentState,
    reason: string,
    callId?: string,
    change: { since?: string; previous?: AgentState; wrapUpUntil?: string } = {},
  ): void {
    this.publish({
      type: 'agent.state',
      agentId,
      state,
      reason,
      ...(callId !== undefined ? { callId } : {}),
      since: change.since ?? new Date().toISOString(),
      ...(change.previous !== undefined ? { previous: change.previous } : {}),
      ...(change.wrapUpUntil !== undefined ? { wrapUpUntil: change.wrapUpUntil } : {}),
    });
  }

  /** The wallboard's figures: each queue's and the whole hotline's. */
  queueFigures(queues: QueueFigures[], overall: OverallFigures): void {
    this.publish({ type: 'queue.figures', queues, overall });
  }

  /** An alert fired (src/alerts/feed.ts tells every alert, whichever controller fired it). */
  alertFired(alert: Omit<import('./catalogue.js').AlertFiredEvent, 'type'>): void {
    this.publish({ type: 'alert.fired', ...alert });
  }

  /** An alert's condition no longer holds. */
  alertCleared(alertId: string, rule: string, clearedAt: string): void {
    this.publish({ type: 'alert.cleared', alertId, rule, clearedAt });
  }

  /** Someone acknowledged an active alert. */
  alertAcknowledged(alertId: string, rule: string, by: string, acknowledgedAt: string): void {
    this.publish({ type: 'alert.acknowledged', alertId, rule, by, acknowledgedAt });
  }

  /**
   * Tells an event another controller made (./relay.ts) to every sink but `except` (the relay
   * itself, so it is not sent round again).
   */
  tell(event: RexianEvent, except: EventSink): void {
    for (const sink of this.sinks.keys()) if (sink !== except) sink(event);
  }

  private publish(event: RexianEvent): void {
    for (const sink of this.sinks.keys()) sink(event);
  }
}
