// Callback tasks (回访) the dialer places: from abandoned calls, voicemails, queue callbacks
// whose citizen was not reached, and the API (return visits after a case is closed). Each
// task is a Redis hash; the due ones sit in a sorted set by time. Taking a due task is one
// atomic step, so two controllers never dial the same task.
import { randomBytes } from 'node:crypto';

import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export type Disposition = 'reached' | 'no-answer' | 'busy' | 'wrong-number' | 'refused' | 'failed';

export interface DialerTask {
  id: string;
  number: string;
  reason: string;
  /** The call that gave rise to it (abandoned, voicemail …), when there was one. */
  callId?: string;
  caseId?: string;
  did?: string;
  /** A masked case: the call presents this binding's virtual number instead of 12345. */
  bindingId?: string;
  attempts: number;
  status: 'pending' | 'dialing' | 'done';
  disposition?: Disposition;
  createdAt: string;
  nextAt?: string;
}

// KEYS: due zset. ARGV: now. Takes the earliest task due by now, or nothing.
const TAKE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return false end
redis.call('ZREM', KEYS[1], due[1])
return due[1]
`;

export class DialerTasks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dialer:task:${id}`;
  }

  private get dueKey(): string {
    return `${this.prefix}:dialer:due`;
  }

  async add(
    task: { number: string; reason: string; callId?: string; caseId?: string; did?: string; bindingId?: string },
    at = Date.now(),
  ): Promise<DialerTask> {
    const full: DialerTask = {
      id: `cb-${randomBytes(6).toString('hex')}`,
      ...task,
      attempts: 0,
      status: 'pending',
      createdAt: new Date(at).toISOString(),
      nextAt: new Date(at).toISOString(),
    };
    await this.redis
      .multi()
      .hset(this.key(full.id), flatten(full))
      .zadd(this.dueKey, at, full.id)
      .zadd(`${this.prefix}:dialer:all`, at, full.id)
      .exec();
    return full;
  }

  async get(id: string): Promise<DialerTask | undefined> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.id) return undefined;
    return { ...(h as unknown as DialerTask), attempts: Number(h.attempts ?? 0) };
  }

  /** The most recent tasks, newest first. */
  async recent(limit = 100): Promise<DialerTask[]> {
    const ids = await this.redis.zrevrange(`${this.prefix}:dialer:all`, 0, limit - 1);
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((t): t is DialerTask => t !== undefined);
  }

  /** Takes the earliest due task (and counts the attempt), or undefined. */
  async take(now = Date.now()): Promise<DialerTask | undefined> {
    const id = (await this.redis.eval(TAKE, 1, this.dueKey, now)) as string | null;
    if (!id) return undefined;
    await this.redis
      .multi()
      .hincrby(this.key(id), 'attempts', 1)
      .hset(this.key(id), 'status', 'dialing')
      .zadd(this.dialingKey, now, id)
      .exec();
    return this.get(id);
  }

  private get dialingKey(): string {
    return `${this.prefix}:dialer:dialing`;
  }

  /** Tasks taken before `before` whose attempt never settled (their controller died while it rang). */
  async stale(before: number): Promise<DialerTask[]> {
    const ids = await this.redis.zrangebyscore(this.dialingKey, '-inf', before, 'LIMIT', 0, 100);
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((t): t is DialerTask => t !== undefined);
  }

  /** Records an attempt's outcome: done, or due again at `retryAt`. */
  async settle(task: DialerTask, disposition: Disposition, retryAt?: number): Promise<void> {
    const multi = this.redis
      .multi()
      .zrem(this.dialingKey, task.id)
      .hset(this.key(task.id), {
        disposition,
        status: retryAt === undefined ? 'done' : 'pending',
        ...(retryAt === undefined ? {} : { nextAt: new Date(retryAt).toISOString() }),
      });
    if (retryAt !== undefined) multi.zadd(this.dueKey, retryAt, task.id);
    await multi.exec();
    await appendToStream(this.redis, `${this.prefix}:dialer:attempts`, {
      task: task.id,
      number: task.number,
      reason: task.reason,
      attempt: task.attempts,
      disposition,
      retryAt: retryAt === undefined ? undefined : new Date(retryAt).toISOString(),
      at: new Date().toISOString(),
    });
  }
}

function flatten(task: DialerTask): Record<string, string> {
  return Object.fromEntries(
    Object.entries(task)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
