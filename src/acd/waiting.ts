// Callers waiting in each queue: a Redis sorted set per queue, ordered by priority first and
// then by arrival, so a position is one ZRANK and the next caller one ZRANGE.
import type { Redis } from '../store/redis.js';

const PRIORITY_WEIGHT = 1e13; // above any epoch-milliseconds arrival time

export class WaitingList {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(queue: string): string {
    return `${this.prefix}:queue:${queue}:waiting`;
  }

  /** Priority 9 is served first; within a priority, first come, first served. */
  static score(priority: number, enqueuedAt: number): number {
    return (9 - priority) * PRIORITY_WEIGHT + enqueuedAt;
  }

  async enqueue(queue: string, callId: string, priority: number, enqueuedAt = Date.now()): Promise<void> {
    // NX: a call re-queued after a controller restart keeps its place.
    await this.redis.zadd(this.key(queue), 'NX', WaitingList.score(priority, enqueuedAt), callId);
  }

  async remove(queue: string, callId: string): Promise<void> {
    await this.redis.zrem(this.key(queue), callId);
  }

  /** 1-based position, or undefined when not waiting. */
  async position(queue: string, callId: string): Promise<number | undefined> {
    const rank = await this.redis.zrank(this.key(queue), callId);
    return rank === null ? undefined : rank + 1;
  }

  async waiting(queue: string): Promise<string[]> {
    return this.redis.zrange(this.key(queue), 0, -1);
  }
}
