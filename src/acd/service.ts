// The ACD: callers wait in a queue's holding bridge; the moment an agent is free (ready,
// wrap-up over, a call returned), the Redis router reserves the best pair and we ring the
// agent with a channel id of our own; on answer both sides meet in a mixing bridge. A ring
// that goes unanswered returns the call to its exact place and rings the next agent at once.
// Nothing here polls for agents: the 1 s tick only ends overdue wrap-ups and refreshes this
// controller's liveness, as a safety net for timers lost in a crash.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';

import type { AriClient, AriEvent } from '../asterisk/ari.js';
import {
  agentEndpoint,
  agentLeg,
  announcementPlayback,
  callbackAgentLeg,
  callbackCallId,
  callbackCitizenLeg,
  callbackConfirmPlayback,
  holdingBridge,
  talkBridge,
  talkRecording,
} from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { checkDestination, isDialable } from '../calls/dial-string.js';
import type { CallService, LostState } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import type { EventNotifier } from '../events/notifier.js';
import { localTime } from '../ivr/calendar.js';
import type { CallbackTasks } from '../ivr/callbacks.js';
import type { RecordingService } from '../recording/service.js';
import type { Redis } from '../store/redis.js';
import { AgentCallActions } from './call-actions.js';
import { type QueueStats, staffingKey } from './figures.js';
import type { QueueConfig, QueueDefinition } from './queue-config.js';
import { recoverFromAsterisk } from './recovery.js';
import type { Roster } from './roster.js';
import type { Match, Router } from './router.js';
import { type IvrSummary, type ScreenPop, screenPop } from './screen-pop.js';
import type { WaitingList } from './waiting.js';
import type { WindowDirectory } from './windows.js';

export interface QueueRequest {
  queue: string;
  /** Topic tags from the flow (shown to the agent); routing uses the queue's skills. */
  skills: string[];
  priority: number;
  maxWait?: number;
  /** Fields for the "call queued" log line (the flow's path and version). */
  context?: Record<string, unknown>;
  /** What the IVR learned, for the agent's screen. */
  ivr?: IvrSummary;
}

export type QueueExit = 'timeout' | 'noAgents';

// transferring: the agent left (a blind transfer), the citizen hears music until the other
// side answers. transferred: the citizen talks to a number or a window, no agent on the call.
type Phase =
  | 'waiting'
  | 'offering'
  | 'connected'
  | 'callback-requested'
  | 'dialing-citizen'
  | 'taken-over'
  | 'transferring'
  | 'transferred'
  | 'done';

/** A party the agent consults or transfers to, ringing or talking on a leg of the call. */
export interface Consult {
  leg: string;
  /** attended: the agent talks to them first. blind: the agent has left. */
  mode: 'attended' | 'blind';
  kind: 'agent' | 'number' | 'window';
  /** Agent id, number or window id. */
  target: string;
  /** As the agent sees it: 赵敏 (2001), 市政务服务中心 不动产登记窗口, 02367720001. */
  label: string;
  answered: boolean;
  /** All three in the talk bridge. */
  conference: boolean;
  startedAt: number;
  /** The citizen was on hold before: stays on hold when the consultation ends. */
  wasHeld: boolean;
  fromAgent: string;
}

/** What the ACD keeps in the call's saved state (call.flow.acd). */
export interface AcdCallState {
  queue: string;
  /** The queue the caller first entered: figures count against it even after an overflow. */
  origin: string;
  phase: Phase;
  priority: number;
  enqueuedAt: number;
  deadline?: number;
  legCount: number;
  agentId?: string;
  agentLeg?: string;
  offeredAt?: number;
  answeredAt?: number;
  bridgeId?: string;
  nextAnnounceAt?: number;
  callbackOffered?: boolean;
  playbackId?: string;
  tags?: string[];
  /** Queue callbacks: the original call id, and the citizen's leg once we dial it. */
  originCallId?: string;
  citizenLeg?: string;
  callbackNumber?: string;
  /** On hold: the citizen is out of the talk bridge, hearing music. */
  held?: boolean;
  heldSince?: number;
  holdMs?: number;
  /** A supervisor took the call over: the agent's leg is being dropped, the call goes on. */
  takenOver?: boolean;
  /** Emergency hand-off: the 110/119/120/122 leg, its number, whether it has joined. */
  emergencyLeg?: string;
  emergencyNumber?: string;
  emergencyJoined?: boolean;
  muted?: boolean;
  consult?: Consult;
  transfers?: number;
  /** The quality-inspection recording of the talk bridge. */
  recording?: string;
  recordingPaused?: boolean;
  ivr?: IvrSummary;
  // For the call's record: the first queue entry and answer (a transfer queues again),
  // every agent who talked, talk time so far, how it ended.
  firstEnqueuedAt?: number;
  firstAnsweredAt?: number;
  agents?: string[];
  talkMs?: number;
  callerMasked?: boolean;
  abandoned?: boolean;
  shortAbandon?: boolean;
  windowId?: string;
  hangupSide?: 'citizen' | 'agent' | 'other';
  /** The last queue the flow sent the caller to turned them away: full, or nobody to answer. */
  refused?: 'queue-full' | 'no-agents';
  /** A dialer task placed agent-first: the dialer is told whether the citizen was reached. */
  dialerTask?: string;
}

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

const CALLBACK_NUMBER = /^\+?\d{3,20}$/;
/** A reservation older than the longest ring by this much, with no live call ringing the agent, is stale. */
const STALE_RESERVATION_MARGIN_MS = 15_000;

export class AcdService extends EventEmitter {
  readonly controllerId: string;
  private exitHandler: (call: Call, result: QueueExit) => Promise<void> = async () => {};
  private afterCallHandler: (call: Call, flowId: string) => Promise<boolean> = async () => false;
  private routing = false;
  private lastStaffingSample = -1;
  private lastReservationSweep = 0;
  private routeAgain = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private readonly wrapTimers = new Map<string, NodeJS.Timeout>();
  private readonly holdingBridges = new Set<string>();
  private readonly log: Logger;
  /** The calls domain (set by bindCalls); call actions use it too. */
  calls!: CallService;
  /** What agents do during a call (hold, mute, transfer, consult, emergency). */
  readonly actions: AgentCallActions;

  constructor(readonly deps: AcdDeps) {
    super();
    this.log = deps.logger.child({ domain: 'acd' });
    this.controllerId = deps.controllerId ?? `ctl-${randomBytes(5).toString('hex')}`;
    this.actions = new AgentCallActions(this);
  }

  /** The calls domain is made after us (it needs the flow, which needs us). */
  bindCalls(calls: CallService): void {
    this.calls = calls;
  }

  private get p(): string {
    return this.deps.prefix;
  }

  /** Starts the after-call flow (the survey) for a citizen whose agent hung up; false if it cannot. */
  onAgentLeft(handler: (call: Call, flowId: string) => Promise<boolean>): void {
    this.afterCallHandler = handler;
  }

  /** What the flow does when a caller leaves a queue without an agent. */
  onQueueExit(handler: (call: Call, result: QueueExit) => Promise<void>): void {
    this.exitHandler = handler;
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
    await this.subscriber.subscribe(`${this.p}:acd:wake`);
    this.tickTimer = setInterval(() => void this.tick(), 1000);
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const t of this.wrapTimers.values()) clearTimeout(t);
    this.wrapTimers.clear();
    this.subscriber?.disconnect();
  }

  /** Tells every controller to route now (an agent is free, a call came back). */
  async wake(): Promise<void> {
    await this.deps.redis.publish(`${this.p}:acd:wake`, this.controllerId);
  }

  /** This controller is alive, and where its API is (actions on its calls are forwarded there). */
  private async heartbeat(): Promise<void> {
    await this.deps.redis
      .multi()
      .set(`${this.p}:controller:${this.controllerId}`, String(Date.now()), 'PX', 5000)
      .set(`${this.p}:controller-url:${this.controllerId}`, this.deps.advertiseUrl ?? '', 'PX', 5000)
      .exec();
  }

  private async tick(): Promise<void> {
    try {
      await this.heartbeat();
      await this.sampleStaffing();
      for (const agentId of await this.deps.router.wrapUpsDue()) await this.endWrapUp(agentId);
      await this.sweepReservations();
      await this.route();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'ACD tick failed');
    }
  }

  /**
   * Safety net for reservations whose offer never came (a controller died between the match
   * and the offer, or a step of the offer threw): an agent reserved for longer than any ring
   * lasts, whom no live call is ringing (an offer, a callback's, a consultation's), is freed,
   * and a caller still queued gets their place back. Every 5 s on each controller; the release
   * is a compare-and-set on the agent's state and call, so two controllers cannot both act.
   */
  private async sweepReservations(now = Date.now()): Promise<void> {
    if (now - this.lastReservationSweep < 5000) return;
    this.lastReservationSweep = now;
    const ringMs = Math.max(0, ...[...this.deps.queues().queues.values()].map((q) => q.ringSeconds)) * 1000;
    const stale = (await this.deps.router.reservations()).filter(
      (r) => now - r.since > ringMs + STALE_RESERVATION_MARGIN_MS,
    );
    if (stale.length === 0) return;
    const live = await this.calls.store.allLive();
    for (const r of stale) {
      const ringing = live.some((c) => {
        const acd = c.flow.acd as AcdCallState | undefined;
        if (!acd) return false;
        if (c.callId === r.callId && acd.consult?.kind === 'agent' && acd.consult.target === r.agentId) return true;
        return (
          acd.phase === 'offering' &&
          acd.agentId === r.agentId &&
          (c.callId === r.callId || acd.originCallId === r.callId)
        );
      });
      if (ringing) continue; // its controller ends the ring (or, if it died, the next one at reconcile)
      this.log.warn(
        { agentId: r.agentId, callId: r.callId, reservedMs: now - r.since },
        'an agent was left reserved for a call never offered to them; freeing them',
      );
      await this.deps.router.returnCall(r.callId, { ifQueued: true });
      await this.releaseReservation(r.agentId, r.callId, 'stale-reservation');
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
      const key = staffingKey(this.p, q.id, date);
      await this.deps.redis
        .multi()
        .hincrby(key, `${slot}:sum`, await this.loggedInFor(q, false))
        .hincrby(key, `${slot}:n`, 1)
        .expire(key, 40 * 86_400)
        .exec();
    }
  }

  state(call: Call): AcdCallState | undefined {
    return call.flow.acd as AcdCallState | undefined;
  }

  async save(call: Call, patch: Partial<AcdCallState>): Promise<AcdCallState> {
    const next = { ...this.state(call)!, ...patch };
    await call.updateFlow({ acd: next });
    return next;
  }

  /** The agents who could take this queue's calls now or after overflow, logged in. */
  private async loggedInFor(q: QueueDefinition, withOverflow: boolean): Promise<number> {
    const skills = new Set(q.skills);
    if (withOverflow) {
      for (const rule of q.overflow) {
        for (const s of rule.addSkills ?? []) skills.add(s);
        if (rule.toQueue) for (const s of this.queue(rule.toQueue).skills) skills.add(s);
      }
    }
    const members = await Promise.all([...skills].map((s) => this.deps.redis.smembers(`${this.p}:logged-in:${s}`)));
    return new Set(members.flat()).size;
  }

  // ---- entering and leaving a queue -------------------------------------------------------

  /** Why a queue cannot take a caller now (full, or nobody who could answer is logged in); undefined if it can. */
  async cannotTake(q: QueueDefinition): Promise<string | undefined> {
    const waiting = await this.deps.waiting.length(q.id);
    if (waiting >= q.maxLength) return `the queue is full (${waiting} waiting, at most ${q.maxLength})`;
    if ((await this.loggedInFor(q, true)) === 0) return 'nobody who could take the call is logged in';
    return undefined;
  }

  async enqueue(call: Call, request: QueueRequest): Promise<void> {
    const q = this.queue(request.queue);
    const now = Date.now();
    const log = call.log.child({ queue: q.id });
    const why = await this.cannotTake(q);
    if (why) {
      log.info({ why }, 'the queue cannot take the call; the flow decides what next');
      await this.deps.stats.count(q.id, 'leftQueue');
      // The record names the queue that turned the caller away, and why (a later queue clears it).
      await this.save(call, {
        queue: q.id,
        origin: this.state(call)?.origin ?? q.id,
        phase: 'done',
        refused: why.startsWith('the queue is full') ? 'queue-full' : 'no-agents',
      });
      return this.exitHandler(call, 'noAgents');
    }
    const maxWait = Math.min(request.maxWait ?? Infinity, q.maxWaitSeconds);
    const priority = Math.max(request.priority, q.priority);
    const previous = this.state(call);
    const state: AcdCallState = {
      queue: q.id,
      origin: previous?.phase === 'done' ? q.id : (previous?.origin ?? q.id),
      phase: 'waiting',
      priority,
      enqueuedAt: now,
      deadline: now + maxWait * 1000,
      legCount: previous?.legCount ?? 0,
      nextAnnounceAt:
        q.announce.everySeconds > 0 || q.announce.firstAfterSeconds > 0
          ? now + q.announce.firstAfterSeconds * 1000
          : undefined,
      tags: request.skills,
      ivr: request.ivr ?? previous?.ivr,
      transfers: previous?.transfers,
      holdMs: previous?.holdMs,
      // A transferred call keeps its talk bridge, and the bridge's recording runs on.
      recording: previous?.recording,
      recordingPaused: previous?.recordingPaused,
      firstEnqueuedAt: previous?.firstEnqueuedAt ?? now,
      firstAnsweredAt: previous?.firstAnsweredAt,
      agents: previous?.agents,
      talkMs: previous?.talkMs,
      windowId: previous?.windowId,
      callerMasked: previous?.callerMasked,
    };
    await call.updateFlow({ acd: state });
    await this.deps.waiting.join(call.id, {
      queue: q.id,
      origin: state.origin,
      enqueuedAt: now,
      priority,
      owner: this.controllerId,
      did: call.state.did,
      caller: call.state.caller,
    });
    await this.deps.stats.offered(q.id, now);
    await this.hold(call, q);
    log.info({ ...request.context, priority, maxWait, tags: request.skills }, 'call queued');
    await call.note('queued', { queue: q.id, priority });
    this.armTimers(call, state, q);
    void this.route();
  }

  /** The queue's timers for a waiting caller (max wait, overflow, announcements). */
  armTimers(call: Call, state: AcdCallState, q: QueueDefinition): void {
    const now = Date.now();
    if (state.deadline !== undefined) call.later(state.deadline - now, () => this.leave(call, 'timeout'));
    // Overflow rules take effect at their time: route then, not at the next tick.
    for (const rule of q.overflow) {
      if (rule.afterSeconds !== undefined)
        call.later(state.enqueuedAt + rule.afterSeconds * 1000 - now + 5, async () => {
          void this.route();
        });
    }
    if (state.nextAnnounceAt !== undefined) call.later(state.nextAnnounceAt - now, () => this.announce(call));
  }

  /** Waiting callers sit in their queue's holding bridge, hearing its music. */
  private async hold(call: Call, q: QueueDefinition): Promise<void> {
    const bridgeId = holdingBridge(this.deps.ari.app, q.id);
    const add = (): Promise<unknown> => call.ari.bridges.add(bridgeId, call.channelId, { role: 'participant' });
    if (!this.holdingBridges.has(bridgeId)) await this.createHoldingBridge(bridgeId, q);
    try {
      await add();
    } catch {
      // The bridge went away (Asterisk restarted): make it again.
      await this.createHoldingBridge(bridgeId, q);
      await add();
    }
  }

  private async createHoldingBridge(bridgeId: string, q: QueueDefinition): Promise<void> {
    // It may exist already (made by an earlier process, or another controller): keep it.
    await this.deps.ari.ensureBridge(bridgeId, 'holding', `hold ${q.id}`);
    await this.deps.ari.bridges.startMusic(bridgeId, q.musicClass).catch(() => undefined);
    this.holdingBridges.add(bridgeId);
  }

  private async unhold(call: Call, queue: string): Promise<void> {
    await call.ari.bridges.removeIfPresent(holdingBridge(this.deps.ari.app, queue), call.channelId);
  }

  /** The caller leaves without an agent (waited too long): the flow takes over again. */
  private async leave(call: Call, result: QueueExit): Promise<void> {
    const state = this.state(call);
    if (state?.phase !== 'waiting') return;
    await this.deps.waiting.leave(call.id, state.queue);
    await this.save(call, { phase: 'done' });
    await this.unhold(call, state.queue);
    await this.deps.stats.count(state.origin, 'leftQueue');
    await call.note(
      'left-queue',
      { queue: state.queue, result, waitMs: Date.now() - state.enqueuedAt },
      'left the queue',
    );
    await this.exitHandler(call, result);
  }

  // ---- routing ----------------------------------------------------------------------------

  /** Matches free agents to waiting calls until one side runs out. Calls coalesce. */
  async route(): Promise<void> {
    if (this.routing) {
      this.routeAgain = true;
      return;
    }
    this.routing = true;
    try {
      do {
        this.routeAgain = false;
        await this.routeOnce();
      } while (this.routeAgain);
    } catch (err) {
      this.log.error({ err }, 'routing failed');
    } finally {
      this.routing = false;
    }
  }

  private async routeOnce(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const requests = await this.requests();
      if (requests.length === 0) return;
      const result = await this.deps.router.match(requests, Date.now(), this.controllerId);
      if (!result) return;
      if ('deferTo' in result) {
        await this.wake();
        return;
      }
      this.dispatchOffer(result);
    }
  }

  /** The queues with callers and the skills each may draw on now (overflow widens them). */
  private async requests(): Promise<Array<{ queue: string; skills: string[] }>> {
    const queues = [...this.deps.queues().queues.values()];
    const heads = await this.deps.waiting.heads(queues.map((q) => q.id));
    const now = Date.now();
    const out: Array<{ queue: string; skills: string[] }> = [];
    for (const [i, q] of queues.entries()) {
      const { waiting, oldestSince } = heads[i]!;
      if (waiting === 0) continue;
      const longestWaitMs = oldestSince !== undefined ? now - oldestSince : 0;
      const skills = [...q.skills];
      let predictedLow: boolean | undefined;
      for (const rule of q.overflow) {
        let active = rule.afterSeconds !== undefined && longestWaitMs >= rule.afterSeconds * 1000;
        if (!active && rule.whenPredictedBelowTarget) {
          if (predictedLow === undefined) {
            const sl = await this.deps.stats.predictedServiceLevel(q, await this.loggedInFor(q, false), now);
            predictedLow = sl !== undefined && sl < q.targets[0]!.percent / 100;
          }
          active = predictedLow;
        }
        if (!active) continue;
        for (const s of rule.addSkills ?? []) if (!skills.includes(s)) skills.push(s);
        if (rule.toQueue) await this.overflowTo(q, rule.toQueue, rule.afterSeconds, now);
      }
      out.push({ queue: q.id, skills });
    }
    return out;
  }

  private async overflowTo(
    from: QueueDefinition,
    to: string,
    afterSeconds: number | undefined,
    now: number,
  ): Promise<void> {
    const cutoff = afterSeconds === undefined ? '+inf' : now - afterSeconds * 1000;
    for (const callId of await this.deps.waiting.arrivedBy(from.id, cutoff)) {
      if (!(await this.deps.router.moveCall(callId, from.id, to))) continue;
      await this.deps.stats.count(from.id, 'overflowedOut');
      this.log.info(
        { callId, queue: from.id, to },
        'overflow: caller moved to another queue, keeping their place by age',
      );
      this.calls.run(callId, async (call) => {
        const state = this.state(call);
        if (state?.phase !== 'waiting') return;
        await this.save(call, { queue: to });
        await this.unhold(call, from.id);
        await this.hold(call, this.queue(to));
      });
    }
  }

  private dispatchOffer(match: Match): void {
    if (this.calls.run(match.callId, (call) => this.offer(call, match))) return;
    void this.offerCallback(match).catch(async (err: unknown) => {
      // Usually the race of an offer with a hang-up: a caller (not a callback entry) whose call
      // ended between the match and now; the lines below recover. Only a fault is an error.
      const callerGone = !(await this.deps.waiting.entry(match.callId).catch(() => ({ callback: 'unknown' }))).callback;
      if (callerGone)
        this.log.info(
          { callId: match.callId, agentId: match.agentId },
          'the matched caller hung up before the offer; the agent is free again',
        );
      else this.log.error({ err, callId: match.callId }, 'cannot place a queue callback; the call keeps its place');
      // ifQueued: a caller who has left is not put back (it would be a ghost in the queue).
      await this.deps.router.returnCall(match.callId, { ifQueued: true });
      await this.releaseReservation(match.agentId, match.callId, 'caller-left');
    });
  }

  /**
   * A match for this call whose offer will never run (its task was dropped with the call): the
   * entry back at its place if it is still queued (a chosen callback), the agent free again.
   */
  private async releaseUnoffered(callId: string): Promise<void> {
    const agentId = await this.deps.router.offerOf(callId);
    if (!agentId) return;
    const back = await this.deps.router.returnCall(callId, { ifQueued: true });
    await this.releaseReservation(agentId, callId, 'caller-hung-up', { route: true });
    if (back)
      this.log.info({ callId, agentId, queue: back }, 'a callback entry matched as its caller hung up keeps its place');
  }

  /**
   * Frees an agent the router reserved for a call that will not be offered to them (the caller
   * left between the match and the offer, the offer never started, its controller died): back
   * to ready, or to the not-ready they asked for meanwhile, with an agent.state event. Only
   * that call's reservation: an agent reserved since for another call is left alone.
   */
  async releaseReservation(
    agentId: string,
    callId: string,
    why: string,
    options: { route?: boolean } = {},
  ): Promise<boolean> {
    const pending = await this.deps.redis.hget(`${this.p}:agent:${agentId}`, 'afterCall');
    const target = pending ? 'not-ready' : 'ready';
    const { changed } = await this.deps.router.setAgentState(agentId, target, pending ?? '', '', Date.now(), {
      expect: ['reserved'],
      expectCall: callId,
    });
    if (!changed) return false;
    if (pending) await this.deps.redis.hdel(`${this.p}:agent:${agentId}`, 'afterCall');
    this.log.info(
      { agentId, callId, why, state: target },
      'reservation released: the call was not offered to the agent',
    );
    this.deps.notifier.agentState(agentId, target, pending ?? why, callId);
    if (target === 'ready' && options.route !== false) {
      await this.wake();
      void this.route();
    }
    return true;
  }

  // ---- offering a call to an agent --------------------------------------------------------

  private async offer(call: Call, match: Match): Promise<void> {
    const state = this.state(call);
    if (state?.phase !== 'waiting') {
      // The caller left between the match and now (timed out, chose a callback): the agent is
      // free again, and an entry still queued (a chosen callback) keeps its place. Not routed
      // at once: a callback entry is served once its caller has hung up (the tick routes).
      const back = await this.deps.router.returnCall(call.id, { ifQueued: true });
      await this.releaseReservation(match.agentId, call.id, 'caller-left', { route: !back });
      return;
    }
    const q = this.queue(state.queue);
    const agent = this.deps.roster().agents.get(match.agentId);
    const legCount = state.legCount + 1;
    const leg = agentLeg(call.id, legCount);
    const now = Date.now();
    await this.save(call, { phase: 'offering', agentId: match.agentId, agentLeg: leg, legCount, offeredAt: now });
    await this.calls.attachLeg(call, leg, { role: 'agent', party: match.agentId });
    await call.note(
      'offered',
      { queue: q.id, agentId: match.agentId, agentChannel: leg, waitMs: now - state.enqueuedAt },
      'call offered to agent',
    );
    const pop = this.popFor(call, state, q);
    if (pop.callerMasked) await this.save(call, { callerMasked: true });
    this.deps.notifier.agentOffer({
      agentId: match.agentId,
      callId: call.id,
      queue: q.id,
      tags: state.tags ?? [],
      callback: false,
      ...pop,
    });
    try {
      await this.deps.ari.originate({
        channelId: leg,
        endpoint: `PJSIP/${agentEndpoint(match.agentId)}`,
        // The phone's display follows the same policy as the screen.
        callerId: `"${call.state.did}${pop.callerMasked ? ' 保密' : ''}" <${pop.callerMasked ? call.state.did : call.state.caller || call.state.did}>`,
        timeout: q.ringSeconds,
        appArgs: `agent-leg,${call.id}`,
        variables: agent?.autoAnswer ? { 'PJSIP_HEADER(add,Call-Info)': '<sip:rexian>;answer-after=0' } : undefined,
      });
    } catch (err) {
      call.log.warn({ agentId: match.agentId, err: (err as Error).message }, 'could not ring the agent');
      await this.ringFailed(call, 'originate-failed');
    }
  }

  /** The agent let it ring out, rejected it, or could not be reached: next agent, now. */
  private async ringFailed(call: Call, cause: string): Promise<void> {
    const state = this.state(call)!;
    const { agentId, agentLeg } = state;
    if (agentLeg) {
      await this.calls.detachLeg(call, agentLeg);
      await call.ari.hangupChannel(agentLeg);
    }
    const back = await this.deps.router.returnCall(call.id);
    if (!back) {
      await this.deps.waiting.enqueue(state.queue, call.id, state.priority, state.enqueuedAt);
    }
    await this.save(call, { phase: 'waiting', agentId: undefined, agentLeg: undefined });
    if (agentId) {
      const rule = this.deps.roster().ringNoAnswer;
      await this.deps.router.setAgentState(
        agentId,
        rule.state,
        rule.state === 'ready' ? '' : rule.reason,
        '',
        Date.now(),
        { expect: ['reserved'] },
      );
      this.deps.notifier.agentOfferWithdrawn(agentId, call.id, cause);
    }
    await call.note(
      'agent-no-answer',
      { agentId, cause, queue: state.queue },
      'agent did not answer; the call keeps its place and goes to the next agent',
    );
    await this.route();
  }

  /** The agent's screen-pop for this call, as the queue's policy and the caller's wishes allow. */
  popFor(call: Call, state: AcdCallState, q: QueueDefinition): ScreenPop {
    return screenPop({
      did: call.state.did,
      caller: call.state.caller,
      ivr: state.ivr,
      waitMs: Date.now() - state.enqueuedAt,
      policy: q.callerNumber,
    });
  }

  private async connect(call: Call): Promise<void> {
    const state = this.state(call)!;
    const now = Date.now();
    const bridgeId = talkBridge(call.id);
    await call.ari.ensureBridge(bridgeId, 'mixing', `talk ${call.id}`);
    await this.unhold(call, state.queue);
    await call.ari.bridges.add(bridgeId, [call.channelId, state.agentLeg!]);
    await this.save(call, {
      phase: 'connected',
      answeredAt: now,
      bridgeId,
      firstAnsweredAt: state.firstAnsweredAt ?? now,
      agents: [...(state.agents ?? []), state.agentId!],
    });
    await this.deps.router.setAgentState(state.agentId!, 'on-call', '', call.id, now, { expect: ['reserved'] });
    await this.deps.router.clearOffer(call.id);
    await this.deps.waiting.leave(call.id, state.queue);
    const waitMs = now - state.enqueuedAt;
    await this.deps.stats.answered(this.queue(state.origin), waitMs);
    await call.note(
      'answered',
      { agentId: state.agentId, queue: state.queue, waitMs, bridgeId },
      'call connected to agent',
    );
    await this.record(call, bridgeId, state.agentId!, state.queue);
  }

  /** Quality-inspection recording of the talk bridge, if the queue records; one per call. */
  private async record(call: Call, bridgeId: string, agentId: string, queueId: string): Promise<void> {
    const state = this.state(call)!;
    if (state.recording || !this.queue(queueId).record) return;
    const name = talkRecording(call.id);
    if (
      await this.deps.recordings.recordBridge(bridgeId, {
        name,
        callId: call.id,
        agentId,
        queue: queueId,
        did: call.state.did,
        kind: 'talk',
      })
    ) {
      await this.save(call, { recording: name });
    }
  }

  /**
   * After a call with an agent: after-call work, then ready again (or not ready as asked).
   * Nothing before the agent's state change may fail: figures that cannot be counted, or a
   * queue removed from the file since, must not leave the agent on-call for ever.
   */
  async wrapUp(call: Call, agentId: string, queueId: string, talkMs: number): Promise<void> {
    const q = this.deps.queues().queues.get(queueId);
    const wrapUpSeconds = q?.wrapUpSeconds ?? 0;
    const now = Date.now();
    const callId = call.id;
    // Talk adds up over the agents of a transferred call (for the call's record).
    await this.save(call, { talkMs: (this.state(call)?.talkMs ?? 0) + talkMs }).catch((err: unknown) =>
      call.log.warn({ err: (err as Error).message }, 'could not save the talk time; the record has it'),
    );
    await this.deps.stats
      .handled(queueId, talkMs, wrapUpSeconds * 1000)
      .catch((err: unknown) =>
        call.log.warn(
          { err: (err as Error).message, queue: queueId },
          'could not count the handled call in the queue figures',
        ),
      );
    if (wrapUpSeconds <= 0) {
      await this.deps.router.setAgentState(agentId, 'wrap-up', queueId, callId, now, { expect: ['on-call'] });
      await this.endWrapUp(agentId);
      return;
    }
    const until = now + wrapUpSeconds * 1000;
    await this.deps.router.setAgentState(agentId, 'wrap-up', queueId, callId, now, {
      expect: ['on-call'],
      wrapUntil: until,
    });
    this.log.info({ agentId, queue: queueId, wrapUpSeconds }, 'agent in wrap-up');
    clearTimeout(this.wrapTimers.get(agentId));
    this.wrapTimers.set(
      agentId,
      setTimeout(() => {
        this.wrapTimers.delete(agentId);
        void this.endWrapUp(agentId);
      }, until - now),
    );
  }

  // ---- for supervision --------------------------------------------------------------------

  /** The talk of a call connected to an agent, or undefined. */
  talkOf(call: Call): { bridgeId: string; agentLeg: string; agentId: string } | undefined {
    const state = this.state(call);
    if (state?.phase !== 'connected' || !state.bridgeId || !state.agentLeg || !state.agentId) return undefined;
    return { bridgeId: state.bridgeId, agentLeg: state.agentLeg, agentId: state.agentId };
  }

  /** Take-over: the agent's leg is dropped and the agent goes to wrap-up; the call goes on. */
  async releaseAgent(call: Call): Promise<void> {
    const state = this.state(call)!;
    await this.save(call, { takenOver: true });
    await call.ari.hangupChannel(state.agentLeg!);
  }

  // ---- what an agent does during a call ----------------------------------------------------

  /** Ends wrap-up (its time is up, or the agent ended it early). False if not in wrap-up. */
  async endWrapUp(agentId: string): Promise<boolean> {
    clearTimeout(this.wrapTimers.get(agentId));
    this.wrapTimers.delete(agentId);
    const pending = await this.deps.redis.hget(`${this.p}:agent:${agentId}`, 'afterCall');
    const target = pending ? 'not-ready' : 'ready';
    const { changed } = await this.deps.router.setAgentState(agentId, target, pending ?? '', '', Date.now(), {
      expect: ['wrap-up'],
    });
    if (!changed) return false;
    if (pending) await this.deps.redis.hdel(`${this.p}:agent:${agentId}`, 'afterCall');
    this.log.info({ agentId, state: target }, 'wrap-up ended');
    if (target === 'ready') {
      await this.wake();
      void this.route();
    }
    return true;
  }

  // ---- events and the end of a call ---------------------------------------------------------

  /** ARI events of a queued call; true when the ACD handled it. */
  async onEvent(call: Call, event: AriEvent): Promise<boolean> {
    const state = this.state(call);
    if (!state) return false;
    const channelId = event.channel?.id;
    const gone = event.type === 'ChannelDestroyed' || event.type === 'StasisEnd';
    if (state.agentLeg && channelId === state.agentLeg && call.state.kind !== 'callback') {
      if (event.type === 'StasisStart' && state.phase === 'offering') await this.connect(call);
      else if (gone && state.phase === 'offering') await this.ringFailed(call, String(event.cause_txt ?? event.type));
      else if (gone && state.phase === 'connected') await this.agentHungUp(call);
      return true;
    }
    if (await this.actions.onLegEvent(call, state, event)) return true;
    if (call.state.kind === 'callback') return this.onCallbackEvent(call, state, event);
    if (
      channelId === call.channelId &&
      event.type === 'ChannelDtmfReceived' &&
      (state.phase === 'waiting' || state.phase === 'offering')
    ) {
      if (event.digit === '1' && state.callbackOffered && state.phase === 'waiting') await this.requestCallback(call);
      return true; // keys pressed while queued are not menu input
    }
    if (event.type === 'PlaybackFinished' && event.playback?.id === state.playbackId) {
      if (state.phase === 'callback-requested') await call.hangup();
      return true;
    }
    return state.phase !== 'done';
  }

  private async agentHungUp(call: Call): Promise<void> {
    const state = this.state(call)!;
    if (await this.actions.agentLeftDuringConsult(call, state)) return;
    if (state.takenOver) {
      await this.save(call, { phase: 'taken-over' });
      await this.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
      await call.note('taken-over', { agentId: state.agentId }, 'agent dropped; the supervisor has the call');
      return;
    }
    await this.save(call, { phase: 'done', hangupSide: 'agent' });
    await this.wrapUp(call, state.agentId!, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
    if (state.emergencyLeg) {
      // A warm hand-off: the citizen stays with the emergency line.
      call.log.warn(
        { agentId: state.agentId, number: state.emergencyNumber },
        'agent left; the citizen stays with the emergency line',
      );
      return;
    }
    if (state.bridgeId) await call.ari.bridges.destroyIfPresent(state.bridgeId);
    const flowId = this.queue(state.origin).afterCallFlow;
    if (
      flowId &&
      (await this.afterCallHandler(call, flowId).catch((err: unknown) => {
        call.log.error({ err }, 'after-call flow failed');
        return false;
      }))
    ) {
      await call.note(
        'agent-hung-up',
        { agentId: state.agentId, flowId },
        'agent hung up; the citizen goes on to the after-call flow',
      );
      return;
    }
    await call.note('agent-hung-up', { agentId: state.agentId }, 'agent hung up; ending the call');
    await call.hangup();
  }

  /**
   * The call is over (the citizen hung up, or it was found gone). Each clean-up step runs
   * whatever the one before did: an agent leg that will not hang up must not leave its agent
   * reserved, nor a figure that cannot be counted keep the caller in the waiting list.
   */
  async onEnd(call: Call): Promise<void> {
    const state = this.state(call);
    if (!state) return;
    try {
      await this.endCall(call, state);
    } finally {
      // An empty talk bridge would stay in Asterisk for ever.
      if (state.bridgeId) await this.deps.ari.bridges.destroyIfPresent(state.bridgeId);
    }
  }

  /** Runs the steps in order; a failing one is logged (with its name) and the next runs. */
  private async steps(call: Call, steps: Array<[string, () => Promise<unknown>]>): Promise<void> {
    for (const [step, run] of steps) {
      try {
        await run();
      } catch (err) {
        call.log.error({ err, step }, 'a clean-up step at the end of the call failed; the others go on');
      }
    }
  }

  private async endCall(call: Call, state: AcdCallState): Promise<void> {
    if (call.state.kind === 'callback') return this.endCallback(call, state);
    const now = Date.now();
    // A call that ended while no controller ran ended when Asterisk says (records/fallback.ts):
    // wait and talk end there.
    const endedAt =
      Date.parse(String((call.state.flow.asteriskEnd as { endedAt?: string } | undefined)?.endedAt)) || now;
    const hangupLeg: Array<[string, () => Promise<unknown>]> = [
      [
        'hang up the agent leg',
        async () => {
          if (state.agentLeg) await this.deps.ari.hangupChannel(state.agentLeg);
        },
      ],
      ['end consultations and emergency legs', () => this.actions.onCallEnded(state)],
    ];
    switch (state.phase) {
      case 'waiting':
      case 'offering': {
        const waitMs = endedAt - state.enqueuedAt;
        let short = false;
        await this.steps(call, [
          ...(state.phase === 'offering'
            ? ([
                ...hangupLeg,
                ['withdraw the offer', () => this.deps.router.clearOffer(call.id)],
                ['free the agent', () => this.releaseReservation(state.agentId!, call.id, 'caller-hung-up')],
              ] satisfies Array<[string, () => Promise<unknown>]>)
            : []),
          ['leave the queue', () => this.deps.waiting.leave(call.id, state.queue)],
          // The router may have reserved an agent for this caller whose offer has not run yet (the
          // hang-up was queued first, so the offer task is dropped): free that agent. After the
          // leave, so no match can reserve anyone for this caller any more.
          ['free an agent reserved but not yet offered', () => this.releaseUnoffered(call.id)],
          [
            'count the abandon',
            async () => {
              short = await this.deps.stats.abandoned(this.queue(state.origin), waitMs);
            },
          ],
          ['mark the abandon', () => this.save(call, { abandoned: true, shortAbandon: short })],
          // A caller who gave up is called back (回访), unless they hung up at once.
          [
            'callback task',
            async () => {
              if (!short && CALLBACK_NUMBER.test(call.state.caller)) {
                await this.deps.callbacks.add({
                  callId: call.id,
                  did: call.state.did,
                  caller: call.state.caller,
                  reason: 'abandoned',
                });
              }
            },
          ],
          [
            'note the abandon',
            () =>
              call.note(
                'abandoned',
                { queue: state.queue, waitMs, short },
                short ? 'caller hung up while queued (short abandon)' : 'caller hung up while queued (abandon)',
              ),
          ],
        ]);
        return;
      }
      case 'done':
      case 'transferring':
      case 'transferred':
        // A caller who left the queue (timed out) just as a match was made for them.
        await this.steps(call, [['free an agent reserved but not yet offered', () => this.releaseUnoffered(call.id)]]);
        await this.actions.onCallEnded(state);
        return;
      case 'callback-requested':
        // The caller hung up after choosing a callback, as asked, just as a match was made for their entry.
        await this.steps(call, [['free an agent reserved but not yet offered', () => this.releaseUnoffered(call.id)]]);
        return;
      case 'connected':
        await this.steps(call, [
          ...hangupLeg,
          [
            'note the hang-up',
            () => call.note('citizen-hung-up', { agentId: state.agentId }, 'citizen hung up; agent goes to wrap-up'),
          ],
          ['wrap-up', () => this.wrapUp(call, state.agentId!, state.origin, endedAt - (state.answeredAt ?? endedAt))],
        ]);
        return;
      default:
    }
  }

  /** After a controller restart: pick up where the call was. */
  async resume(call: Call): Promise<void> {
    const state = this.state(call);
    if (!state) return;
    if (call.state.kind === 'callback') return;
    const q = this.queue(state.queue);
    await this.deps.waiting.updateEntry(call.id, { owner: this.controllerId });
    switch (state.phase) {
      case 'waiting': {
        // The controller died between a match and its offer: the caller is out of the queue and
        // an agent reserved for nobody. Back to its exact place, and the agent is free again.
        const reserved = await this.deps.router.offerOf(call.id);
        if (reserved) {
          await this.deps.router.returnCall(call.id, { ifQueued: true });
          await this.releaseReservation(reserved, call.id, 'offer-lost-in-restart', { route: false });
        }
        await this.hold(call, q).catch((err: unknown) =>
          call.log.warn({ err: (err as Error).message }, 'could not put the caller back in the holding bridge'),
        );
        this.armTimers(
          call,
          {
            ...state,
            nextAnnounceAt: state.nextAnnounceAt === undefined ? undefined : Math.max(Date.now(), state.nextAnnounceAt),
          },
          q,
        );
        call.log.info({ queue: q.id }, 'caller still queued after restart; place kept');
        void this.route();
        return;
      }
      case 'offering': {
        const leg = await this.channelState(state.agentLeg!);
        if (leg === undefined) return this.ringFailed(call, 'lost-while-away');
        if (leg === 'Up') return this.connect(call);
        return; // still ringing: its answer or end will come as an event
      }
      case 'connected':
        if ((await this.channelState(state.agentLeg!)) === undefined) await this.agentHungUp(call);
        else await this.resumeConsult(call);
        return;
      case 'transferring':
      case 'transferred':
        await this.resumeConsult(call);
        return;
      default:
    }
  }

  /** A consulted party answered or left while no controller was watching: act on it now. */
  private async resumeConsult(call: Call): Promise<void> {
    const consult = this.state(call)?.consult;
    if (!consult) return;
    const leg = await this.channelState(consult.leg);
    const channel = { id: consult.leg } as AriEvent['channel'];
    if (leg === undefined)
      await this.actions.onLegEvent(call, this.state(call)!, {
        type: 'ChannelDestroyed',
        channel,
        cause_txt: 'ended while away',
      });
    else if (leg === 'Up' && !consult.answered)
      await this.actions.onLegEvent(call, this.state(call)!, { type: 'StasisStart', channel });
  }

  private async channelState(channelId: string): Promise<string | undefined> {
    try {
      return (await this.deps.ari.request<{ state: string }>('GET', `/channels/${channelId}`)).state;
    } catch {
      return undefined;
    }
  }

  // ---- announcements and callbacks that keep the caller's place ------------------------------

  private async announce(call: Call): Promise<void> {
    const state = this.state(call);
    if (state?.phase !== 'waiting') return;
    const q = this.queue(state.queue);
    const position = await this.deps.waiting.position(q.id, call.id);
    if (position === undefined) return;
    const ahead = position - 1;
    const loggedIn = Math.max(1, await this.loggedInFor(q, false));
    const figures = await this.deps.redis.hmget(this.deps.stats.key(q.id), 'handled', 'handleMs');
    const handleS = Number(figures[0] ?? 0) > 0 ? Number(figures[1]) / Number(figures[0]) / 1000 : 180;
    const estimatedWaitS = ((ahead + 1) * handleS) / loggedIn;
    const parts: string[] = [];
    if (q.announce.position) parts.push(ahead === 0 ? '您是下一位。' : `您前面还有${ahead}位。`);
    if (q.announce.estimatedWait) parts.push(`预计等待约${Math.max(1, Math.round(estimatedWaitS / 60))}分钟。`);
    const offerCallback =
      q.callbackAfterEstimatedWaitSeconds > 0 &&
      estimatedWaitS >= q.callbackAfterEstimatedWaitSeconds &&
      isDialable(call.state.caller);
    if (offerCallback) parts.push('如需我们回拨并保留您的排队位置，请按1。');
    const next = q.announce.everySeconds > 0 ? Date.now() + q.announce.everySeconds * 1000 : undefined;
    const playbackId = announcementPlayback(call.id, Date.now());
    await this.save(call, {
      nextAnnounceAt: next,
      callbackOffered: state.callbackOffered || offerCallback,
      playbackId,
    });
    if (parts.length > 0) {
      const media = await this.deps.speak(parts.join(''));
      await call.ari.channels.play(call.channelId, playbackId, `sound:${media}`);
      await call.note(
        'position-announced',
        { queue: q.id, ahead, estimatedWaitS: Math.round(estimatedWaitS), offerCallback },
        'announced position and estimated wait',
      );
    }
    if (next !== undefined) call.later(next - Date.now(), () => this.announce(call));
  }

  /** The caller pressed 1: we call back when their turn comes; the entry keeps its place. */
  private async requestCallback(call: Call): Promise<void> {
    const state = this.state(call)!;
    const playbackId = callbackConfirmPlayback(call.id);
    await this.save(call, { phase: 'callback-requested', playbackId });
    await this.deps.waiting.updateEntry(call.id, { owner: '', callback: call.state.caller });
    await this.deps.stats.count(state.origin, 'callbacksRequested');
    await this.deps.callbacks.add({
      callId: call.id,
      did: call.state.did,
      caller: call.state.caller,
      reason: 'queue-callback',
    });
    await call.note(
      'callback-chosen',
      { queue: state.queue },
      'caller chose a callback; their place in the queue is kept',
    );
    const media = await this.deps.speak('已为您登记回拨，轮到您时我们会来电，请挂机等候。');
    await call.ari.channels.play(call.channelId, playbackId, `sound:${media}`);
  }

  /**
   * The dialer's agent-first callback: an entry in the queue that the first free agent takes;
   * the agent is rung first, then the citizen (as for a queue callback).
   */
  async enqueueCallback(
    entryId: string,
    c: { queue: string; number: string; did: string; dialerTask: string },
  ): Promise<void> {
    const now = Date.now();
    await this.deps.waiting.join(entryId, {
      queue: c.queue,
      origin: c.queue,
      priority: 9,
      enqueuedAt: now,
      owner: '',
      did: c.did,
      caller: c.number,
      callback: c.number,
      dialerTask: c.dialerTask,
    });
    this.log.info(
      { entry: entryId, queue: c.queue, task: c.dialerTask },
      'dialer callback queued for the first free agent',
    );
    await this.wake();
    void this.route();
  }

  /** A callback entry reached the head: ring the agent first, then the citizen. */
  private async offerCallback(match: Match): Promise<void> {
    const info = await this.deps.waiting.entry(match.callId);
    if (!info.callback || !CALLBACK_NUMBER.test(info.callback))
      throw new Error(`queue entry ${match.callId} is neither a live call here nor a callback`);
    const callId = callbackCallId(match.callId, Date.now());
    const leg = callbackAgentLeg(callId);
    const state: AcdCallState = {
      queue: match.queue,
      origin: info.origin ?? match.queue,
      phase: 'offering',
      priority: Number(info.priority ?? 0),
      enqueuedAt: Number(info.enqueuedAt),
      legCount: 1,
      agentId: match.agentId,
      agentLeg: leg,
      offeredAt: Date.now(),
      originCallId: match.callId,
      callbackNumber: info.callback,
      ...(info.dialerTask ? { dialerTask: info.dialerTask } : {}),
    };
    const call = await this.calls.open({
      callId,
      channelId: leg,
      did: info.did ?? '12345',
      caller: info.callback,
      startedAt: new Date().toISOString(),
      asteriskStartup: '',
      flow: { acd: state },
      kind: 'callback',
    });
    call.log.info(
      { agentId: match.agentId, originCallId: match.callId, queue: match.queue },
      'queue callback: ringing the agent first',
    );
    const pop = screenPop({
      did: call.state.did,
      caller: info.callback,
      waitMs: Date.now() - state.enqueuedAt,
      policy: this.queue(match.queue).callerNumber,
    });
    this.deps.notifier.agentOffer({
      agentId: match.agentId,
      callId,
      queue: match.queue,
      tags: [],
      callback: true,
      ...pop,
    });
    this.calls.run(callId, async () => {
      await this.deps.ari.originate({
        channelId: leg,
        endpoint: `PJSIP/${agentEndpoint(match.agentId)}`,
        callerId: `"回拨" <${info.callback}>`,
        timeout: this.queue(match.queue).ringSeconds,
        appArgs: `agent-leg,${callId}`,
      });
    });
  }

  private async onCallbackEvent(call: Call, state: AcdCallState, event: AriEvent): Promise<boolean> {
    const channelId = event.channel?.id;
    if (event.type === 'StasisStart' && channelId === state.agentLeg && state.phase === 'offering') {
      const citizenLeg = callbackCitizenLeg(call.id);
      await this.save(call, { phase: 'dialing-citizen', citizenLeg, answeredAt: Date.now() });
      await this.deps.router.setAgentState(state.agentId!, 'on-call', '', call.id, Date.now(), {
        expect: ['reserved'],
      });
      await this.deps.router.clearOffer(state.originCallId!);
      await this.calls.attachLeg(call, citizenLeg, { role: 'citizen', party: 'caller' });
      await call.note(
        'agent-answered',
        { agentId: state.agentId, citizenChannel: citizenLeg },
        'queue callback: agent answered; calling the citizen',
      );
      await this.deps.ari.originate({
        channelId: citizenLeg,
        endpoint: `PJSIP/${checkDestination('external', state.callbackNumber!, 'callbackNumber').number}@${this.deps.pstnEndpoint ?? 'pstn'}`,
        callerId: call.state.did,
        timeout: 40,
        appArgs: `agent-leg,${call.id}`,
      });
      return true;
    }
    if (channelId === state.citizenLeg) {
      if (event.type === 'StasisStart' && state.phase === 'dialing-citizen') {
        const bridgeId = talkBridge(call.id);
        await call.ari.ensureBridge(bridgeId, 'mixing', `callback ${call.id}`);
        await call.ari.bridges.add(bridgeId, [state.agentLeg!, state.citizenLeg!]);
        await this.save(call, { phase: 'connected', bridgeId });
        await this.deps.waiting.leave(state.originCallId!, state.queue);
        await call.note('answered', { agentId: state.agentId }, 'queue callback connected');
        if (state.dialerTask) this.emit('dialer', { task: state.dialerTask, reached: true, callId: call.id });
        await this.record(call, bridgeId, state.agentId!, state.queue);
      } else if (
        event.type === 'ChannelDestroyed' &&
        (state.phase === 'dialing-citizen' || state.phase === 'connected')
      ) {
        if (state.phase === 'dialing-citizen' && state.dialerTask) {
          // The dialer's own task: it settles the attempt and retries by its rules.
          await call.note(
            'citizen-no-answer',
            { cause: String(event.cause_txt ?? ''), task: state.dialerTask },
            'callback: the citizen did not answer',
          );
          this.emit('dialer', {
            task: state.dialerTask,
            reached: false,
            cause: Number(event.cause ?? 0),
            causeText: event.cause_txt,
            callId: call.id,
          });
          await this.deps.waiting.leave(state.originCallId!, state.queue);
          await this.save(call, { phase: 'done', answeredAt: undefined, firstAnsweredAt: undefined });
        } else if (state.phase === 'dialing-citizen') {
          call.log.warn(
            { cause: event.cause_txt },
            'queue callback: the citizen did not answer; left to the outbound dialer',
          );
          await this.deps.callbacks.add({
            callId: state.originCallId!,
            did: call.state.did,
            caller: state.callbackNumber!,
            reason: 'queue-callback-unreached',
          });
          await this.deps.waiting.leave(state.originCallId!, state.queue);
          await this.save(call, { phase: 'done' });
        }
        await call.hangup(); // the agent's leg; the call ends and the agent goes to wrap-up
      }
      return true;
    }
    return true;
  }

  private async endCallback(call: Call, state: AcdCallState): Promise<void> {
    const now = Date.now();
    if (state.citizenLeg) await this.deps.ari.hangupChannel(state.citizenLeg);
    if (state.phase === 'offering') {
      // The agent did not answer: the entry goes back to its place, the agent steps out.
      await this.steps(call, [
        ['return the entry', () => this.deps.router.returnCall(state.originCallId!)],
        [
          'the agent steps out',
          async () => {
            const rule = this.deps.roster().ringNoAnswer;
            await this.deps.router.setAgentState(
              state.agentId!,
              rule.state,
              rule.state === 'ready' ? '' : rule.reason,
              '',
              now,
              { expect: ['reserved'] },
            );
          },
        ],
      ]);
      call.log.info({ agentId: state.agentId }, 'queue callback: agent did not answer; the entry keeps its place');
      void this.route();
      return;
    }
    if (state.phase === 'connected' || state.phase === 'dialing-citizen' || state.phase === 'done') {
      await this.steps(call, [
        [
          'leave the queue',
          async () => {
            if (state.phase === 'dialing-citizen') await this.deps.waiting.leave(state.originCallId!, state.queue);
          },
        ],
        ['wrap-up', () => this.wrapUp(call, state.agentId!, state.origin, now - (state.answeredAt ?? now))],
      ]);
    }
  }

  /** After Redis lost its data: rebuilds the ACD's calls from Asterisk (see recovery.ts). */
  recover(lost: LostState): Promise<Set<string>> {
    return recoverFromAsterisk(this, lost, this.log);
  }
}
