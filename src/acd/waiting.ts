// Callers waiting in each queue, all in Redis so any controller (or the next process) sees
// the same lines: per queue a sorted set ordered by priority first and then by arrival (a
// position is one ZRANK, the next caller one ZRANGE), a second one by arrival alone (the
// longest wait, overflow by age), and per call an entry naming its owner controller.
// The router's Lua scripts read and move the same keys; their names live here and there.
import type { Redis } from '../store/redis.js';

const PRIORITY_WEIGHT = 1e13; // above any epoch-milliseconds arrival time

export interface QueueEntry {
  queue: string;
  origin: string;
  priority: number;
  enqueuedAt: number;
  /** The controller whose ARI app holds the caller's channel ('' for a callback). */
  owner: string;
  did: string;
  caller: string;
  /** The number to call back, once the caller chose a callback. */
  callback?: string;
  /** A callback the dialer placed agent-first: its task. */
  dialerTask?: string;
}

export class WaitingList {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(queue: string): string {
    return `${this.prefix}:queue:${queue}:waiting`;
  }

  private sinceKey(queue: string): string {
    return `${this.prefix}:queue:${queue}:since`;
  }

  private entryKey(callId: string): string {
    return `${this.prefix}:qcall:${callId}`;
  }

  /** Priority 9 is served first; within a priority, first come, first served. */
  static score(priority: number, enqueuedAt: number): number {
    return (9 - priority) * PRIORITY_WEIGHT + enqueuedAt;
  }

  async enqueue(queue: string, callId: string, priority: number, enqueuedAt = Date.now()): Promise<void> {
    // NX: a call re-queued after a controller restart keeps its place.
    await this.redis.zadd(this.key(queue), 'NX', WaitingList.score(priority, enqueuedAt), callId);
  }

  /** A caller joins a queue: its place, its arrival and its entry, together. */
  async join(callId: string, entry: QueueEntry): Promise<void> {
    await this.redis
      .multi()
      .hset(this.entryKey(callId), { ...entry, callback: entry.callback ?? '', dialerTask: entry.dialerTask ?? '' })
      .zadd(this.key(entry.queue), 'NX', WaitingList.score(entry.priority, entry.enqueuedAt), callId)
      .zadd(this.sinceKey(entry.queue), 'NX', entry.enqueuedAt, callId)
      .exec();
  }

  /** The caller is gone from the queue (answered, abandoned, left). */
  async leave(callId: string, queue: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.key(queue), callId)
      .zrem(this.sinceKey(queue), callId)
      .del(this.entryKey(callId))
      .exec();
  }

  async remove(queue: string, callId: string): Promise<void> {
    await this.redis.zrem(this.key(queue), callId);
  }

  async entry(callId: string): Promise<Partial<Record<keyof QueueEntry, string>>> {
    return this.redis.hgetall(this.entryKey(callId));
  }

  async updateEntry(callId: string, fields: Partial<QueueEntry>): Promise<void> {
    await this.redis.hset(this.entryKey(callId), fields as Record<string, string | number>);
  }

  /** 1-based position, or undefined when not waiting. */
  async position(queue: string, callId: string): Promise<number | undefined> {
    const rank = await this.redis.zrank(this.key(queue), callId);
    return rank === null ? undefined : rank + 1;
  }

  async waiting(queue: string): Promise<string[]> {
    return this.redis.zrange(this.key(queue), 0, -1);
  }

  /** Callers in the queue, counting those being offered to an agent right now. */
  async length(queue: string): Promise<number> {
    return this.redis.zcard(this.sinceKey(queue));
  }

  /** For each queue: callers ready for an offer, and the arrival time of the oldest caller. */
  async heads(queues: string[]): Promise<Array<{ waiting: number; oldestSince?: number }>> {
    const pipe = this.redis.pipeline();
    for (const q of queues) pipe.zcard(this.key(q)).zrange(this.sinceKey(q), 0, 0, 'WITHSCORES');
    const replies = (await pipe.exec()) ?? [];
    return queues.map((_, i) => {
      const oldest = replies[i * 2 + 1]?.[1] as string[] | undefined;
      return { waiting: Number(replies[i * 2]?.[1] ?? 0), ...(oldest?.[1] ? { oldestSince: Number(oldest[1]) } : {}) };
    });
  }

  /** Callers who arrived at or before `cutoff` (overflow by age). */
  async arrivedBy(queue: string, cutoff: number | '+inf', limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(this.sinceKey(queue), '-inf', cutoff, 'LIMIT', 0, limit);
  }
}
