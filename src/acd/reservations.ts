// An agent the router reserved for a call that will not be offered to them (the caller left
// between the match and the offer, the offer never started, its controller died) is freed:
// back to ready, or to the not-ready they asked for meanwhile, with an agent.state event.
// Every release is a compare-and-set on the agent's state and call, so two controllers
// cannot both act, and an agent reserved since for another call is left alone.
import type { AcdWiring } from './core.js';

/** A reservation older than the longest ring by this much, with no live call ringing the agent, is stale. */
const STALE_RESERVATION_MARGIN_MS = 15_000;

export class Reservations {
  private lastSweep = 0;

  constructor(private readonly acd: Pick<AcdWiring, 'deps' | 'log' | 'calls' | 'wake' | 'route'>) {}

  private get deps() {
    return this.acd.deps;
  }

  /**
   * Safety net for reservations whose offer never came (a controller died between the match
   * and the offer, or a step of the offer threw): an agent reserved for longer than any ring
   * lasts, whom no live call is ringing (an offer, a callback's, a consultation's), is freed,
   * and a caller still queued gets their place back. Every 5 s on each controller.
   */
  async sweep(now = Date.now()): Promise<void> {
    if (now - this.lastSweep < 5000) return;
    this.lastSweep = now;
    const ringMs = Math.max(0, ...[...this.deps.queues().queues.values()].map((q) => q.ringSeconds)) * 1000;
    const stale = (await this.deps.router.reservations()).filter(
      (r) => now - r.since > ringMs + STALE_RESERVATION_MARGIN_MS,
    );
    if (stale.length === 0) return;
    const live = await this.acd.calls.store.allLive();
    for (const r of stale) {
      const ringing = live.some((c) => {
        const acd = c.flow.acd;
        if (!acd) return false;
        if (c.callId === r.callId && acd.consult?.kind === 'agent' && acd.consult.target === r.agentId) return true;
        return (
          acd.phase === 'offering' &&
          acd.agentId === r.agentId &&
          (c.callId === r.callId || acd.originCallId === r.callId)
        );
      });
      if (ringing) continue; // its controller ends the ring (or, if it died, the next one at reconcile)
      this.acd.log.warn(
        { agentId: r.agentId, callId: r.callId, reservedMs: now - r.since },
        'an agent was left reserved for a call never offered to them; freeing them',
      );
      await this.deps.router.returnCall(r.callId, { ifQueued: true });
      await this.release(r.agentId, r.callId, 'stale-reservation');
    }
  }

  /**
   * A match for this call whose offer will never run (its task was dropped with the call): the
   * entry back at its place if it is still queued (a chosen callback), the agent free again.
   */
  async releaseUnoffered(callId: string): Promise<void> {
    const agentId = await this.deps.router.offerOf(callId);
    if (!agentId) return;
    const back = await this.deps.router.returnCall(callId, { ifQueued: true });
    await this.release(agentId, callId, 'caller-hung-up', { route: true });
    if (back)
      this.acd.log.info(
        { callId, agentId, queue: back },
        'a callback entry matched as its caller hung up keeps its place',
      );
  }

  /** Frees an agent reserved for this call (and only this call); false if they were not. */
  async release(agentId: string, callId: string, why: string, options: { route?: boolean } = {}): Promise<boolean> {
    const key = `${this.deps.prefix}:agent:${agentId}`;
    const pending = await this.deps.redis.hget(key, 'afterCall');
    const target = pending ? 'not-ready' : 'ready';
    const { changed } = await this.deps.router.setAgentState(agentId, target, pending ?? '', '', Date.now(), {
      expect: ['reserved'],
      expectCall: callId,
    });
    if (!changed) return false;
    if (pending) await this.deps.redis.hdel(key, 'afterCall');
    this.acd.log.info(
      { agentId, callId, why, state: target },
      'reservation released: the call was not offered to the agent',
    );
    this.deps.notifier.agentState(agentId, target, pending ?? why, callId);
    if (target === 'ready' && options.route !== false) {
      await this.acd.wake();
      void this.acd.route();
    }
    return true;
  }
}
