// Entering and leaving a queue: a caller the queue can take waits in its holding bridge,
// hearing its music, with the queue's timers (the longest wait, overflow, announcements of
// position and estimated wait, which may offer a callback that keeps the caller's place).
// A queue that is full, or that nobody logged in could answer, turns the caller away and
// the flow decides what next. Matching callers to agents is routing.ts.
// A caller is routed before the hold: the holding-bridge request goes on in parallel, so a
// caller who arrives while a matching agent is free has that agent ringing without waiting
// for it. Whatever moves the caller between bridges later (the talk bridge on answer, leaving,
// overflow to another queue) waits for that hold first, so the requests reach Asterisk in order.
import { announcementPlayback, holdingBridge } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { isDialable } from '../calls/dial-string.js';
import { LogEvent } from '../events/log-events.js';
import { type AcdCallState, acdState, type QueueExit, type QueueRequest, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';
import type { QueueDefinition } from './queue-config.js';

export class Queueing {
  private readonly holdingBridges = new Set<string>();
  /** Per call: the hold started at enqueue and not yet done (bridge moves wait for it). */
  private readonly pendingHolds = new Map<string, Promise<void>>();

  constructor(private readonly acd: Pick<AcdWiring, 'deps' | 'controllerId' | 'queue' | 'route' | 'queueExit'>) {}

  private get deps() {
    return this.acd.deps;
  }

  /** The agents who could take this queue's calls now or after overflow, logged in. */
  async loggedInFor(q: QueueDefinition, withOverflow: boolean): Promise<number> {
    const skills = new Set(q.skills);
    if (withOverflow) {
      for (const rule of q.overflow) {
        for (const s of rule.addSkills ?? []) skills.add(s);
        if (rule.toQueue) for (const s of this.acd.queue(rule.toQueue).skills) skills.add(s);
      }
    }
    const members = await Promise.all(
      [...skills].map((s) => this.deps.redis.smembers(`${this.deps.prefix}:logged-in:${s}`)),
    );
    return new Set(members.flat()).size;
  }

  /** Why a queue cannot take a caller now (full, or nobody who could answer is logged in); undefined if it can. */
  async cannotTake(q: QueueDefinition): Promise<string | undefined> {
    const waiting = await this.deps.waiting.length(q.id);
    if (waiting >= q.maxLength) return `the queue is full (${waiting} waiting, at most ${q.maxLength})`;
    if ((await this.loggedInFor(q, true)) === 0) return 'nobody who could take the call is logged in';
    return undefined;
  }

  async enqueue(call: Call, request: QueueRequest): Promise<void> {
    const q = this.acd.queue(request.queue);
    const now = Date.now();
    const log = call.log.child({ queue: q.id });
    const why = await this.cannotTake(q);
    if (why) {
      log.info({ event: LogEvent.queueRefused, why }, 'the queue cannot take the call; the flow decides what next');
      await this.deps.stats.count(q.id, 'leftQueue');
      // The record names the queue that turned the caller away, and why (a later queue clears it).
      await saveAcd(call, {
        queue: q.id,
        origin: acdState(call)?.origin ?? q.id,
        phase: 'done',
        refused: why.startsWith('the queue is full') ? 'queue-full' : 'no-agents',
      });
      return this.acd.queueExit(call, 'noAgents');
    }
    const maxWait = Math.min(request.maxWait ?? Infinity, q.maxWaitSeconds);
    const priority = Math.max(request.priority, q.priority);
    const previous = acdState(call);
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
      owner: this.acd.controllerId,
      did: call.state.did,
      caller: call.state.caller,
    });
    await this.deps.stats.offered(q.id, now);
    this.holdInBackground(call, q);
    // Routed now, the hold in flight: an offer runs in the call's order after this task, and
    // its originate does not need the hold; connect() waits for it (unhold below).
    void this.acd.route();
    log.info(
      { event: LogEvent.callQueued, ...request.context, priority, maxWait, tags: request.skills, enqueuedAt: now },
      'call queued',
    );
    await call.note('queued', { queue: q.id, priority });
    this.armTimers(call, state, q);
  }

  /**
   * The caller goes to the holding bridge without the enqueue waiting for it. A hold that fails
   * because the caller hung up meanwhile is the call's end (its StasisEnd does the rest); any
   * other failure leaves a caller in silence, worth a warning, and still keeps their place.
   */
  private holdInBackground(call: Call, q: QueueDefinition): void {
    const pending = this.hold(call, q).catch(async (err: unknown) => {
      const gone = await call.ari.channels.get(call.channelId).then(
        () => false,
        () => true,
      );
      if (gone) call.log.info({ queue: q.id }, 'the caller hung up before the hold');
      else call.log.warn({ queue: q.id, err: (err as Error).message }, 'could not put the caller on hold');
    });
    this.pendingHolds.set(call.id, pending);
    void pending.finally(() => {
      if (this.pendingHolds.get(call.id) === pending) this.pendingHolds.delete(call.id);
    });
  }

  /** Waits for the caller's hold started at enqueue, if it is still in flight. */
  private async holdDone(call: Call): Promise<void> {
    const pending = this.pendingHolds.get(call.id);
    if (pending) await pending;
  }

  /** The queue's timers for a waiting caller (max wait, overflow, announcements). */
  armTimers(call: Call, state: AcdCallState, q: QueueDefinition): void {
    const now = Date.now();
    if (state.deadline !== undefined) call.later(state.deadline - now, () => this.leave(call, 'timeout'));
    // Overflow rules take effect at their time: route then, not at the next tick.
    for (const rule of q.overflow) {
      if (rule.afterSeconds !== undefined)
        call.later(state.enqueuedAt + rule.afterSeconds * 1000 - now + 5, async () => {
          void this.acd.route();
        });
    }
    if (state.nextAnnounceAt !== undefined) call.later(state.nextAnnounceAt - now, () => this.announce(call));
  }

  /** Waiting callers sit in their queue's holding bridge, hearing its music. */
  async hold(call: Call, q: QueueDefinition): Promise<void> {
    await this.holdDone(call);
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

  async unhold(call: Call, queue: string): Promise<void> {
    await this.holdDone(call);
    await call.ari.bridges.removeIfPresent(holdingBridge(this.deps.ari.app, queue), call.channelId);
  }

  /** The caller leaves without an agent (waited too long): the flow takes over again. */
  private async leave(call: Call, result: QueueExit): Promise<void> {
    const state = acdState(call);
    if (state?.phase !== 'waiting') return;
    await this.deps.waiting.leave(call.id, state.queue);
    await saveAcd(call, { phase: 'done' });
    await this.unhold(call, state.queue);
    await this.deps.stats.count(state.origin, 'leftQueue');
    await call.note(
      'left-queue',
      { event: LogEvent.leftQueue, queue: state.queue, result, waitMs: Date.now() - state.enqueuedAt },
      'left the queue',
    );
    await this.acd.queueExit(call, result);
  }

  /** Position and estimated wait, spoken; a callback offered when the wait is long (press 1). */
  private async announce(call: Call): Promise<void> {
    const state = acdState(call);
    if (state?.phase !== 'waiting') return;
    const q = this.acd.queue(state.queue);
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
    await saveAcd(call, {
      nextAnnounceAt: next,
      callbackOffered: state.callbackOffered || offerCallback,
      playbackId,
    });
    if (parts.length > 0) {
      const media = await this.deps.speak(parts.join(''));
      await this.holdDone(call); // spoken over the music, once the caller is in the holding bridge
      await call.ari.channels.play(call.channelId, playbackId, `sound:${media}`);
      await call.note(
        'position-announced',
        { queue: q.id, ahead, estimatedWaitS: Math.round(estimatedWaitS), offerCallback },
        'announced position and estimated wait',
      );
    }
    if (next !== undefined) call.later(next - Date.now(), () => this.announce(call));
  }
}
