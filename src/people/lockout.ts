// Failed sign-ins, counted per (name, client address) pair in Redis: `failures` wrong
// passwords within `windowSeconds` lock that pair out for `lockSeconds`. The pair, not the
// address alone, because a call centre's whole floor often reaches the controller through one
// NAT address; and not the name alone, because anyone could then lock an agent out of
// their shift by typing their id. The window is fixed, starting at the first failure.
//   <prefix>:sign-in-failures:<address>:<name>   a counter that expires with the window
//   <prefix>:sign-in-lock:<address>:<name>       present while locked out
import type { SessionConfig } from '../config/schema.js';
import type { Redis } from '../store/redis.js';

export type LockoutPolicy = SessionConfig['lockout'];

/** Whole seconds a client must wait, for the Retry-After header (never 0 while locked). */
export function retryAfterSeconds(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

/** Whether the failure just counted (the count-th in the window) locks the pair out. */
export function locksOut(count: number, policy: LockoutPolicy): boolean {
  return count >= policy.failures;
}

export class Lockout {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly policy: () => LockoutPolicy,
  ) {}

  private pair(name: string, address: string): string {
    return `${address}:${name}`;
  }
  private failuresKey(name: string, address: string): string {
    return `${this.prefix}:sign-in-failures:${this.pair(name, address)}`;
  }
  private lockKey(name: string, address: string): string {
    return `${this.prefix}:sign-in-lock:${this.pair(name, address)}`;
  }

  /** Milliseconds left of a lockout, or 0 if the pair may try. */
  async lockedFor(name: string, address: string): Promise<number> {
    const ms = await this.redis.pttl(this.lockKey(name, address));
    return ms > 0 ? ms : 0;
  }

  /** Counts a failure; returns the lockout it starts in ms (0 if none) and the count so far. */
  async fail(name: string, address: string): Promise<{ count: number; lockedMs: number }> {
    const policy = this.policy();
    const key = this.failuresKey(name, address);
    const res = await this.redis
      .multi()
      .incr(key)
      .pexpire(key, policy.windowSeconds * 1000, 'NX')
      .exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    if (!locksOut(count, policy)) return { count, lockedMs: 0 };
    const lockedMs = policy.lockSeconds * 1000;
    await this.redis.multi().set(this.lockKey(name, address), String(count), 'PX', lockedMs).del(key).exec();
    return { count, lockedMs };
  }

  /** A right password clears the pair's failures. */
  async succeed(name: string, address: string): Promise<void> {
    await this.redis.del(this.failuresKey(name, address));
  }
}
