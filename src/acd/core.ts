// What the parts of the ACD share, as interfaces: each part (queueing, routing, offers,
// wrap-up, queue callbacks, the end of a call, the agent call actions) depends on these and on
// call-state.ts, never on another part's file nor on AcdService, so the imports run one way:
// service.ts builds the parts and wires them together through one AcdWiring object.
import type { Logger } from 'pino';

import type { AriClient, AriEvent } from '../asterisk/ari.js';
import type { Call } from '../calls/call.js';
import type { CallService } from '../calls/service.js';
import type { EventNotifier } from '../events/notifier.js';
import type { CallbackTasks } from '../ivr/callbacks.js';
import type { RecordingService } from '../recording/service.js';
import type { Redis } from '../store/redis.js';
import type { AcdCallState, QueueExit, QueueRequest } from './call-state.js';
import type { QueueStats } from './figures.js';
import type { QueueConfig, QueueDefinition } from './queue-config.js';
import type { Roster } from './roster.js';
import type { Match, Router } from './router.js';
import type { ScreenPop } from './screen-pop.js';
import type { WaitingList } from './waiting.js';
import type { WindowDirectory } from './windows.js';

export interface AcdDeps {
  ari: AriClient;
  router: Router;
  stats: QueueStats;
  queues: () => QueueConfig;
  roster: () => Roster;
  redis: Redis;
  prefix: string;
  waiting: WaitingList;
  callbacks: CallbackTasks;
  /** Turns a sentence into a playable media name (synthesized once). */
  speak: (text: string) => Promise<string>;
  logger: Logger;
  /** The trunk endpoint used to call citizens back. */
  pstnEndpoint?: string;
  windows: () => WindowDirectory;
  recordings: RecordingService;
  /** Publishes to the event stream: offers, call and consult state, results (src/events/notifier.ts). */
  notifier: EventNotifier;
  /** Where other controllers reach this one's API. */
  advertiseUrl?: string;
  /** This controller's id (made up when not given). */
  controllerId?: string;
}

/** The result of a dialer task placed agent-first, as the dialer hears it (AcdService's 'dialer' event). */
export interface DialerResult {
  task: string;
  reached: boolean;
  cause?: number;
  causeText?: string;
  callId: string;
}

/** What the agent call actions use of the ACD: AgentCallActions depends on this, not on AcdService. */
export interface AcdCore {
  readonly deps: AcdDeps;
  readonly calls: Pick<CallService, 'get' | 'within' | 'attachLeg' | 'detachLeg'>;
  queue(id: string): QueueDefinition;
  /** Tells every controller to route now (an agent is free again). */
  wake(): Promise<void>;
  cannotTake(q: QueueDefinition): Promise<string | undefined>;
  enqueue(call: Call, request: QueueRequest): Promise<void>;
  wrapUp(call: Call, agentId: string, queueId: string, talkMs: number): Promise<void>;
  popFor(call: Call, state: AcdCallState, q: QueueDefinition): ScreenPop;
}

/**
 * How the parts of the ACD reach one another: one object, built by AcdService, whose members
 * call into the part that owns each job (the file is named beside each group). A part's
 * constructor takes a Pick of it that names exactly what the part uses.
 */
export interface AcdWiring extends AcdCore {
  readonly calls: CallService;
  readonly controllerId: string;
  readonly log: Logger;
  // routing.ts
  route(): Promise<void>;
  // queueing.ts
  loggedInFor(q: QueueDefinition, withOverflow: boolean): Promise<number>;
  hold(call: Call, q: QueueDefinition): Promise<void>;
  unhold(call: Call, queue: string): Promise<void>;
  armTimers(call: Call, state: AcdCallState, q: QueueDefinition): void;
  // reservations.ts
  releaseReservation(agentId: string, callId: string, why: string, options?: { route?: boolean }): Promise<boolean>;
  releaseUnoffered(callId: string): Promise<void>;
  // offers.ts
  offer(call: Call, match: Match): Promise<void>;
  ringFailed(call: Call, cause: string): Promise<void>;
  connect(call: Call): Promise<void>;
  record(call: Call, bridgeId: string, agentId: string, queueId: string): Promise<void>;
  // wrap-up.ts
  endWrapUp(agentId: string): Promise<boolean>;
  // queue-callbacks.ts
  offerCallback(match: Match): Promise<void>;
  endCallback(call: Call, state: AcdCallState): Promise<void>;
  // call-end.ts
  agentHungUp(call: Call): Promise<void>;
  // call-actions.ts: the consultation, transfer and emergency legs of a call
  onLegEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<boolean>;
  agentLeftDuringConsult(call: Call, state: AcdCallState): Promise<boolean>;
  endExtraLegs(state: AcdCallState): Promise<void>;
  // back to the call's flow (through calls.handoffs, calls/event-path.ts), and the dialer's event
  queueExit(call: Call, result: QueueExit): Promise<void>;
  afterCall(call: Call, flowId: string): Promise<boolean>;
  dialerResult(result: DialerResult): void;
}
