// After a call with an agent: after-call work (wrap-up) for the queue's time, then ready
// again, or the not-ready the agent asked for during the call. The timer lives in this
// process; the router keeps each wrap-up's end, so the 1 s tick ends overdue ones whatever
// happened to the timer (a crash, another controller).
import type { Call } from '../calls/call.js';
import { LogEvent } from '../events/log-events.js';
import { acdState, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';

export class WrapUps {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly acd: Pick<AcdWiring, 'deps' | 'log' | 'wake' | 'route'>) {}

  private get deps() {
    return this.acd.deps;
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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
    // The bookkeeping goes with the agent's state change, not before it: a freed agent's next
    // caller does not wait for the figures. Both swallow their errors (see above).
    const bookkeeping = Promise.all([
      // Talk adds up over the agents of a transferred call (for the call's record).
      saveAcd(call, { talkMs: (acdState(call)?.talkMs ?? 0) + talkMs }).catch((err: unknown) =>
        call.log.warn({ err: (err as Error).message }, 'could not save the talk time; the record has it'),
      ),
      this.deps.stats
        .handled(queueId, talkMs, wrapUpSeconds * 1000)
        .catch((err: unknown) =>
          call.log.warn(
            { err: (err as Error).message, queue: queueId },
            'could not count the handled call in the queue figures',
          ),
        ),
    ]);
    try {
      await this.changeState(agentId, queueId, callId, now, wrapUpSeconds);
    } finally {
      await bookkeeping;
    }
  }

  private async changeState(
    agentId: string,
    queueId: string,
    callId: string,
    now: number,
    wrapUpSeconds: number,
  ): Promise<void> {
    if (wrapUpSeconds <= 0) {
      // No after-call work: whether the agent asked for not-ready is read beside the state change.
      const [, afterCall] = await Promise.all([
        this.deps.router.setAgentState(agentId, 'wrap-up', queueId, callId, now, { expect: ['on-call'] }),
        this.deps.redis.hget(this.agentKey(agentId), 'afterCall'),
      ]);
      await this.endWrapUp(agentId, afterCall);
      return;
    }
    const until = now + wrapUpSeconds * 1000;
    await this.deps.router.setAgentState(agentId, 'wrap-up', queueId, callId, now, {
      expect: ['on-call'],
      wrapUntil: until,
    });
    this.acd.log.info({ event: LogEvent.agentInWrapUp, agentId, queue: queueId, wrapUpSeconds }, 'agent in wrap-up');
    clearTimeout(this.timers.get(agentId));
    this.timers.set(
      agentId,
      setTimeout(() => {
        this.timers.delete(agentId);
        void this.endWrapUp(agentId);
      }, until - now),
    );
  }

  private agentKey(agentId: string): string {
    return `${this.deps.prefix}:agent:${agentId}`;
  }

  /**
   * Ends wrap-up (its time is up, or the agent ended it early). False if not in wrap-up.
   * `afterCall`: the not-ready reason the agent asked for during the call, when already read.
   */
  async endWrapUp(agentId: string, afterCall?: string | null): Promise<boolean> {
    clearTimeout(this.timers.get(agentId));
    this.timers.delete(agentId);
    const key = this.agentKey(agentId);
    const pending = afterCall !== undefined ? afterCall : await this.deps.redis.hget(key, 'afterCall');
    const target = pending ? 'not-ready' : 'ready';
    const { changed } = await this.deps.router.setAgentState(agentId, target, pending ?? '', '', Date.now(), {
      expect: ['wrap-up'],
    });
    if (!changed) return false;
    if (pending) await this.deps.redis.hdel(key, 'afterCall');
    this.acd.log.info({ event: LogEvent.wrapUpEnded, agentId, state: target }, 'wrap-up ended');
    if (target === 'ready') {
      // Route here at once, then tell the other controllers (a Redis round trip the freed
      // agent's next caller need not wait for).
      void this.acd.route();
      await this.acd.wake();
    }
    return true;
  }
}
