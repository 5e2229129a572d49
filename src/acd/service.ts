// The ACD: callers wait in a queue's holding bridge; the moment an agent is free (ready,
// wrap-up over, a call returned), the Redis router reserves the best pair and we ring the
// agent with a channel id of our own; on answer both sides meet in a mixing bridge. A ring
// that goes unanswered returns the call to its exact place and rings the next agent at once.
// Nothing here polls for agents: the 1 s tick only ends overdue wrap-ups and refreshes this
// controller's liveness, as a safety net for timers lost in a crash.
//
// This file is the ACD's one entry for the other domains: it builds the parts (each file has
// one job: queueing, routing, offers, wrap-up, reservations, queue callbacks, the end of a
// call, resume, the agent call actions), wires them through one AcdWiring object (core.ts),
// and routes a call's ARI events to the part that owns them. The parts never import it.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';

import type { AriEvent } from '../asterisk/ari.js';
import type { Call } from '../calls/call.js';
import type { CallService, LostState } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import { localTime } from '../ivr/calendar.js';
import type { Redis } from '../store/redis.js';
import { AgentCallActions } from './call-actions.js';
import { CallEnd } from './call-end.js';
import { type AcdCallState, acdState, type QueueRequest, saveAcd } from './call-state.js';
import type { AcdDeps, AcdWiring } from './core.js';
import { staffingKey } from './figures.js';
import { Offers } from './offers.js';
import { QueueCallbacks } from './queue-callbacks.js';
import type { QueueDefinition } from './queue-config.js';
import { Queueing } from './queueing.js';
import { recoverFromAsterisk } from './recovery.js';
import { Reservations } from './reservations.js';
import { Resume } from './resume.js';
import { Routing } from './routing.js';
import type { ScreenPop } from './screen-pop.js';
import { WrapUps } from './wrap-up.js';

export type { AcdCallState, AcdPhase, Consult, QueueExit, QueueRequest } from './call-state.js';
export type { AcdDeps, DialerResult } from './core.js';

export class AcdService extends EventEmitter {
  readonly controllerId: string;
  private lastStaffingSample = -1;
  private tickTimer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private readonly log: Logger;
  /** The calls domain (set by bindCalls); call actions use it too. */
  calls!: CallService;
  /** What agents do during a call (hold, mute, transfer, consult, emergency). */
  readonly actions: AgentCallActions;
  private readonly queueing: Queueing;
  private readonly routing: Routing;
  private readonly reservations: Reservations;
  private readonly offers: Offers;
  private readonly wrapUps: WrapUps;
  private readonly callbacks: QueueCallbacks;
  private readonly ends: CallEnd;
  private readonly resumes: Resume;
  private readonly wired: AcdWiring;

  constructor(readonly deps: AcdDeps) {
    super();
    this.log = deps.logger.child({ domain: 'acd' });
    this.controllerId = deps.controllerId ?? `ctl-${randomBytes(5).toString('hex')}`;
    const wiring = (this.wired = this.wiring());
    this.queueing = new Queueing(wiring);
    this.routing = new Routing(wiring);
    this.reservations = new Reservations(wiring);
    this.offers = new Offers(wiring);
    this.wrapUps = new WrapUps(wiring);
    this.callbacks = new QueueCallbacks(wiring);
    this.ends = new CallEnd(wiring);
    this.resumes = new Resume(wiring);
    this.actions = new AgentCallActions(wiring);
  }

  /** The one object through which the parts reach one another (each member names its part). */
  private wiring(): AcdWiring {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below reads the late-bound calls
    const acd = this;
    return {
      deps: this.deps,
      controllerId: this.controllerId,
      log: this.log,
      get calls() {
        return acd.calls;
      },
      queue: (id) => this.queue(id),
      wake: () => this.wake(),
      route: () => this.routing.route(),
      loggedInFor: (q, withOverflow) => this.queueing.loggedInFor(q, withOverflow),
      cannotTake: (q) => this.queueing.cannotTake(q),
      enqueue: (call, request) => this.queueing.enqueue(call, request),
      hold: (call, q) => this.queueing.hold(call, q),
      unhold: (call, queue) => this.queueing.unhold(call, queue),
      armTimers: (call, state, q) => this.queueing.armTimers(call, state, q),
      releaseReservation: (agentId, callId, why, options) => this.reservations.release(agentId, callId, why, options),
      releaseUnoffered: (callId) => this.reservations.releaseUnoffered(callId),
      offer: (call, match) => this.offers.offer(call, match),
      ringFailed: (call, cause) => this.offers.ringFailed(call, cause),
      connect: (call) => this.offers.connect(call),
      record: (call, bridgeId, agentId, queueId) => this.offers.record(call, bridgeId, agentId, queueId),
      popFor: (call, state, q) => this.offers.popFor(call, state, q),
      wrapUp: (call, agentId, queueId, talkMs) => this.wrapUps.wrapUp(call, agentId, queueId, talkMs),
      endWrapUp: (agentId) => this.wrapUps.endWrapUp(agentId),
      offerCallback: (match) => this.callbacks.offer(match),
      endCallback: (call, state) => this.callbacks.end(call, state),
      agentHungUp: (call) => this.ends.agentHungUp(call),
      onLegEvent: (call, state, event) => this.actions.onLegEvent(call, state, event),
      agentLeftDuringConsult: (call, state) => this.actions.agentLeftDuringConsult(call, state),
      endExtraLegs: (state) => this.actions.onCallEnded(state),
      // Back to the call's flow along the calls domain's handoffs (calls/event-path.ts).
      queueExit: (call, result) => this.calls.handoffs.queueExit(call, result),
      afterCall: (call, flowId) => this.calls.handoffs.agentLeft(call, flowId),
      dialerResult: (result) => void this.emit('dialer', result),
    };
  }

  /** The calls domain (the core): given by acd/module.ts, or by a test. */
  bindCalls(calls: CallService): void {
    this.calls = calls;
  }

  queue(id: string): QueueDefinition {
    const q = this.deps.queues().queues.get(id);
    if (!q) throw new RexianError('REXIAN_UNKNOWN_QUEUE', { queue: id });
    return q;
  }

  async start(): Promise<void> {
    await this.heartbeat();
    this.subscriber = this.deps.redis.duplicate();
    this.subscriber.on('message', () => void this.route());
    await this.subscriber.subscribe(`${this.deps.prefix}:acd:wake`);
    this.tickTimer = setInterval(() => void this.tick(), 1000);
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.wrapUps.stop();
    this.subscriber?.disconnect();
  }

  /** Tells every controller to route now (an agent is free, a call came back). */
  async wake(): Promise<void> {
    await this.deps.redis.publish(`${this.deps.prefix}:acd:wake`, this.controllerId);
  }

  /** Matches free agents to waiting calls until one side runs out (routing.ts). */
  route(): Promise<void> {
    return this.routing.route();
  }

  /** This controller is alive, and where its API is (actions on its calls are forwarded there). */
  private async heartbeat(): Promise<void> {
    const p = this.deps.prefix;
    await this.deps.redis
      .multi()
      .set(`${p}:controller:${this.controllerId}`, String(Date.now()), 'PX', 5000)
      .set(`${p}:controller-url:${this.controllerId}`, this.deps.advertiseUrl ?? '', 'PX', 5000)
      .exec();
  }

  private async tick(): Promise<void> {
    try {
      await this.heartbeat();
      await this.sampleStaffing();
      for (const agentId of await this.deps.router.wrapUpsDue()) await this.endWrapUp(agentId);
      await this.reservations.sweep();
      await this.route();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'ACD tick failed');
    }
  }

  /**
   * Once a minute: how many agents who serve each queue are logged in, summed per half hour
   * (Shanghai time), so the staffing report can set them next to what Erlang C says was needed.
   */
  private async sampleStaffing(now = new Date()): Promise<void> {
    const { date, minutes } = localTime(now);
    if (minutes === this.lastStaffingSample) return;
    this.lastStaffingSample = minutes;
    const slot = Math.floor(minutes / 30);
    for (const q of this.deps.queues().queues.values()) {
      const key = staffingKey(this.deps.prefix, q.id, date);
      await this.deps.redis
        .multi()
        .hincrby(key, `${slot}:sum`, await this.queueing.loggedInFor(q, false))
        .hincrby(key, `${slot}:n`, 1)
        .expire(key, 40 * 86_400)
        .exec();
    }
  }

  // ---- the call's ACD state (call-state.ts) -------------------------------------------------

  state(call: Call): AcdCallState | undefined {
    return acdState(call);
  }

  save(call: Call, patch: Partial<AcdCallState>): Promise<AcdCallState> {
    return saveAcd(call, patch);
  }

  // ---- queues, offers, wrap-up (queueing.ts, reservations.ts, offers.ts, wrap-up.ts) -------

  /** Why a queue cannot take a caller now (full, or nobody who could answer is logged in); undefined if it can. */
  cannotTake(q: QueueDefinition): Promise<string | undefined> {
    return this.queueing.cannotTake(q);
  }

  enqueue(call: Call, request: QueueRequest): Promise<void> {
    return this.queueing.enqueue(call, request);
  }

  /** The queue's timers for a waiting caller (max wait, overflow, announcements). */
  armTimers(call: Call, state: AcdCallState, q: QueueDefinition): void {
    this.queueing.armTimers(call, state, q);
  }

  /**
   * Frees an agent the router reserved for a call that will not be offered to them; only that
   * call's reservation (reservations.ts).
   */
  releaseReservation(
    agentId: string,
    callId: string,
    why: string,
    options: { route?: boolean } = {},
  ): Promise<boolean> {
    return this.reservations.release(agentId, callId, why, options);
  }

  /** The agent's screen-pop for this call, as the queue's policy and the caller's wishes allow. */
  popFor(call: Call, state: AcdCallState, q: QueueDefinition): ScreenPop {
    return this.offers.popFor(call, state, q);
  }

  /** After a call with an agent: after-call work, then ready again (or not ready as asked). */
  wrapUp(call: Call, agentId: string, queueId: string, talkMs: number): Promise<void> {
    return this.wrapUps.wrapUp(call, agentId, queueId, talkMs);
  }

  /** Ends wrap-up (its time is up, or the agent ended it early). False if not in wrap-up. */
  endWrapUp(agentId: string): Promise<boolean> {
    return this.wrapUps.endWrapUp(agentId);
  }

  /** The dialer's agent-first callback: an entry in the queue that the first free agent takes. */
  enqueueCallback(
    entryId: string,
    c: { queue: string; number: string; did: string; dialerTask: string },
  ): Promise<void> {
    return this.callbacks.enqueue(entryId, c);
  }

  // ---- for supervision --------------------------------------------------------------------

  /** The talk of a call connected to an agent, or undefined. */
  talkOf(call: Call): { bridgeId: string; agentLeg: string; agentId: string } | undefined {
    const state = acdState(call);
    if (state?.phase !== 'connected' || !state.bridgeId || !state.agentLeg || !state.agentId) return undefined;
    return { bridgeId: state.bridgeId, agentLeg: state.agentLeg, agentId: state.agentId };
  }

  /** Take-over: the agent's leg is dropped and the agent goes to wrap-up; the call goes on. */
  async releaseAgent(call: Call): Promise<void> {
    const state = acdState(call)!;
    await saveAcd(call, { takenOver: true });
    await call.ari.hangupChannel(state.agentLeg!);
  }

  // ---- a call's events, its end, its resumption ----------------------------------------------

  /** ARI events of a queued call; true when the ACD handled it. */
  async onEvent(call: Call, event: AriEvent): Promise<boolean> {
    const state = acdState(call);
    if (!state) return false;
    const channelId = event.channel?.id;
    const gone = event.type === 'ChannelDestroyed' || event.type === 'StasisEnd';
    if (state.agentLeg && channelId === state.agentLeg && call.state.kind !== 'callback') {
      if (event.type === 'StasisStart' && state.phase === 'offering') await this.offers.connect(call);
      else if (gone && state.phase === 'offering')
        await this.offers.ringFailed(call, String(event.cause_txt ?? event.type));
      else if (gone && state.phase === 'connected') await this.ends.agentHungUp(call);
      return true;
    }
    if (await this.actions.onLegEvent(call, state, event)) return true;
    if (call.state.kind === 'callback') return this.callbacks.onEvent(call, state, event);
    if (
      channelId === call.channelId &&
      event.type === 'ChannelDtmfReceived' &&
      (state.phase === 'waiting' || state.phase === 'offering')
    ) {
      if (event.digit === '1' && state.callbackOffered && state.phase === 'waiting') await this.callbacks.request(call);
      return true; // keys pressed while queued are not menu input
    }
    if (event.type === 'PlaybackFinished' && event.playback?.id === state.playbackId) {
      if (state.phase === 'callback-requested') await call.hangup();
      return true;
    }
    return state.phase !== 'done';
  }

  /** The call is over (the citizen hung up, or it was found gone): call-end.ts. */
  onEnd(call: Call): Promise<void> {
    return this.ends.onEnd(call);
  }

  /** After a controller restart: pick up where the call was (resume.ts). */
  resume(call: Call): Promise<void> {
    return this.resumes.resume(call);
  }

  /** After Redis lost its data: rebuilds the ACD's calls from Asterisk (see recovery.ts). */
  recover(lost: LostState): Promise<Set<string>> {
    return recoverFromAsterisk(this.wired, lost, this.log);
  }
}
