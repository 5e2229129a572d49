// The routing loop: the queues with callers and the skills each may draw on now (overflow
// widens them, or moves callers to another queue keeping their place by age) go to the Redis
// router, which reserves the best agent-call pair; each match is offered in its call's order
// (offers.ts), or, for a callback entry with no live call, placed as a queue callback. Calls
// to route() coalesce: one loop runs at a time and runs again if asked meanwhile.
// A `whenPredictedBelowTarget` rule acts on the live queue (overflow-prediction.ts): as soon
// as a waiting caller is predicted to miss the target, and a timer routes again at the
// instant the next one will be, so the rule never waits for an unrelated event to fire.
import type { Call } from '../calls/call.js';
import { acdState, saveAcd } from './call-state.js';
import type { AcdWiring } from './core.js';
import { type OverflowPrediction, predictOverflow } from './overflow-prediction.js';
import type { QueueDefinition } from './queue-config.js';
import type { Match, RouteRequest } from './router.js';

/** How many waiting callers, first in line first, the prediction looks at. */
const PREDICTED_CALLERS = 10;

type RoutingNeeds = Pick<
  AcdWiring,
  | 'deps'
  | 'log'
  | 'calls'
  | 'controllerId'
  | 'queue'
  | 'wake'
  | 'loggedInFor'
  | 'hold'
  | 'unhold'
  | 'offer'
  | 'offerCallback'
  | 'releaseReservation'
>;

export class Routing {
  private routing = false;
  private routeAgain = false;
  /** Per queue: the timer that routes again when its next caller is predicted to miss the target. */
  private readonly predictionTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly acd: RoutingNeeds) {}

  private get deps() {
    return this.acd.deps;
  }

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
      this.acd.log.error({ err }, 'routing failed');
    } finally {
      this.routing = false;
    }
  }

  private async routeOnce(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const requests = await this.requests();
      if (requests.length === 0) return;
      const result = await this.deps.router.match(requests, Date.now(), this.acd.controllerId);
      if (!result) return;
      if ('deferTo' in result) {
        await this.acd.wake();
        return;
      }
      this.dispatchOffer(result);
    }
  }

  /** The queues with callers and the skills each may draw on now (overflow widens them). */
  private async requests(): Promise<RouteRequest[]> {
    const queues = [...this.deps.queues().queues.values()];
    const heads = await this.deps.waiting.heads(queues.map((q) => q.id));
    const now = Date.now();
    const out: RouteRequest[] = [];
    for (const [i, q] of queues.entries()) {
      const { waiting, oldestSince } = heads[i]!;
      if (waiting === 0) continue;
      const longestWaitMs = oldestSince !== undefined ? now - oldestSince : 0;
      // Each rule acts on its own callers, not on the whole queue: those who arrived by its
      // cutoff (afterSeconds), or those predicted late. The skills it adds are theirs alone,
      // so the first in line, whom a specialist will reach in time, stays for the specialists.
      const added = new Map<string, { arrivedBy?: number; late?: boolean }>();
      let predicted: { prediction: OverflowPrediction; late: string[] } | undefined;
      for (const rule of q.overflow) {
        const byAge = rule.afterSeconds !== undefined && longestWaitMs >= rule.afterSeconds * 1000;
        const cutoff = byAge ? now - rule.afterSeconds! * 1000 : undefined;
        let late = false;
        if (rule.whenPredictedBelowTarget) {
          predicted ??= await this.predict(q, waiting, now);
          late = predicted.late.length > 0;
        }
        if (cutoff === undefined && !late) continue;
        for (const s of rule.addSkills ?? []) {
          if (q.skills.includes(s)) continue;
          const was = added.get(s) ?? {};
          added.set(s, {
            ...(cutoff !== undefined || was.arrivedBy !== undefined
              ? { arrivedBy: Math.max(cutoff ?? -Infinity, was.arrivedBy ?? -Infinity) }
              : {}),
            ...(late || was.late ? { late: true } : {}),
          });
        }
        if (rule.toQueue) await this.overflowTo(q, rule.toQueue, cutoff, late ? predicted!.late : []);
      }
      if (predicted) this.routeAgainAt(q.id, predicted.prediction.nextAt, now);
      out.push({
        queue: q.id,
        skills: [...q.skills],
        overflow: [...added].map(([skill, rule]) => ({ skill, ...rule })),
        ...(predicted?.late.length ? { late: predicted.late } : {}),
      });
    }
    return out;
  }

  /** The live prediction for a queue's waiting callers (overflow-prediction.ts), and the late ones' calls. */
  private async predict(
    q: QueueDefinition,
    waiting: number,
    now: number,
  ): Promise<{ prediction: OverflowPrediction; late: string[] }> {
    // The arrival set also holds callers being offered right now (they are the oldest, as a
    // rule): skip that many, they have an agent already.
    const offering = Math.max(0, (await this.deps.waiting.length(q.id)) - waiting);
    const ids = (await this.deps.waiting.arrivedBy(q.id, '+inf', offering + PREDICTED_CALLERS)).slice(offering);
    const entries = await Promise.all(ids.map((id) => this.deps.waiting.entry(id)));
    const line = ids
      .map((id, i) => ({ id, since: Number(entries[i]!.enqueuedAt) }))
      .filter((c) => Number.isFinite(c.since));
    const [agents, handleTimeS] = await Promise.all([
      this.acd.loggedInFor(q, false),
      this.deps.stats.handleTimeSeconds(q.id, now),
    ]);
    const prediction = predictOverflow(
      { waitingSince: line.map((c) => c.since), agents, handleTimeS, targetS: q.targets[0]!.seconds },
      now,
    );
    return { prediction, late: prediction.late.map((i) => line[i]!.id) };
  }

  /** Routes again when the queue's next caller will be predicted to miss its target. */
  private routeAgainAt(queue: string, at: number | undefined, now: number): void {
    clearTimeout(this.predictionTimers.get(queue));
    this.predictionTimers.delete(queue);
    if (at === undefined) return;
    const timer = setTimeout(
      () => {
        this.predictionTimers.delete(queue);
        void this.route();
      },
      Math.max(0, at - now) + 5,
    );
    timer.unref();
    this.predictionTimers.set(queue, timer);
  }

  /** Moves a rule's callers (arrived by its cutoff, or predicted late) to another queue. */
  private async overflowTo(
    from: QueueDefinition,
    to: string,
    cutoff: number | undefined,
    late: string[],
  ): Promise<void> {
    const byAge = cutoff === undefined ? [] : await this.deps.waiting.arrivedBy(from.id, cutoff);
    for (const callId of new Set([...byAge, ...late])) {
      if (!(await this.deps.router.moveCall(callId, from.id, to))) continue;
      await this.deps.stats.count(from.id, 'overflowedOut');
      this.acd.log.info(
        { callId, queue: from.id, to },
        'overflow: caller moved to another queue, keeping their place by age',
      );
      this.acd.calls.run(callId, async (call: Call) => {
        const state = acdState(call);
        if (state?.phase !== 'waiting') return;
        await saveAcd(call, { queue: to });
        await this.acd.unhold(call, from.id);
        await this.acd.hold(call, this.acd.queue(to));
      });
    }
  }

  private dispatchOffer(match: Match): void {
    if (this.acd.calls.run(match.callId, (call) => this.acd.offer(call, match))) return;
    void this.acd.offerCallback(match).catch(async (err: unknown) => {
      // Usually the race of an offer with a hang-up: a caller (not a callback entry) whose call
      // ended between the match and now; the lines below recover. Only a fault is an error.
      const callerGone = !(await this.deps.waiting.entry(match.callId).catch(() => ({ callback: 'unknown' }))).callback;
      if (callerGone)
        this.acd.log.info(
          { callId: match.callId, agentId: match.agentId },
          'the matched caller hung up before the offer; the agent is free again',
        );
      else this.acd.log.error({ err, callId: match.callId }, 'cannot place a queue callback; the call keeps its place');
      // ifQueued: a caller who has left is not put back (it would be a ghost in the queue).
      await this.deps.router.returnCall(match.callId, { ifQueued: true });
      await this.acd.releaseReservation(match.agentId, match.callId, 'caller-left');
    });
  }
}
