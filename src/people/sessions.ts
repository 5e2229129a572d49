// Sign-in sessions in Redis. The token is 32 random bytes (base64url) that only the
// person's browser holds; Redis keeps its SHA-256, so a copy of Redis signs nobody in.
//   <prefix>:session:<sha256>          the session (principal, issued, absolute end); its TTL
//                                      is the idle timeout, renewed on every use but never
//                                      past the absolute end
//   <prefix>:session-issued:<sha256>   a marker that outlives the session by a day past its
//                                      absolute end, so a timed-out token answers "expired",
//                                      not "unknown"
//   <prefix>:person-sessions:<name>    the hashes of a person's sessions, to end them all at once
// Signing out and revoking delete both keys: such a token is simply unknown afterwards.
import { createHash, randomBytes } from 'node:crypto';

import type { Principal } from '../api/auth.js';
import type { SessionConfig } from '../config/schema.js';
import type { Redis } from '../store/redis.js';

export interface Session {
  principal: Principal;
  displayName?: string;
  issuedAt: string;
  /** When the session ends if unused (renewed on use). */
  expiresAt: string;
  /** When it ends whatever happens. */
  endsAt: string;
}

export type SessionLookup = { session: Session; hash: string } | { expired: true } | undefined;

const MARKER_GRACE_MS = 86_400_000;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** How long a session used now stays alive: the idle timeout, cut at the absolute end. */
export function renewalMs(now: number, endsAtMs: number, idleMs: number): number {
  return Math.max(0, Math.min(idleMs, endsAtMs - now));
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly config: () => SessionConfig,
  ) {}

  private key(hash: string): string {
    return `${this.prefix}:session:${hash}`;
  }
  private issuedKey(hash: string): string {
    return `${this.prefix}:session-issued:${hash}`;
  }
  private personKey(name: string): string {
    return `${this.prefix}:person-sessions:${name}`;
  }

  async create(principal: Principal, displayName?: string): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const hash = tokenHash(token);
    const { idleSeconds, maxSeconds } = this.config();
    const now = Date.now();
    const endsAt = now + maxSeconds * 1000;
    const ttl = renewalMs(now, endsAt, idleSeconds * 1000);
    const markerMs = maxSeconds * 1000 + MARKER_GRACE_MS;
    const stored = {
      principal: JSON.stringify(principal),
      displayName: displayName ?? '',
      issuedAt: String(now),
      endsAt: String(endsAt),
    };
    await this.redis
      .multi()
      .hset(this.key(hash), stored)
      .pexpire(this.key(hash), ttl)
      .set(this.issuedKey(hash), principal.name, 'PX', markerMs)
      .sadd(this.personKey(principal.name), hash)
      .pexpire(this.personKey(principal.name), markerMs)
      .exec();
    return { token, session: this.shape(stored, now + ttl) };
  }

  /** The session of a token, renewed; `expired` if it timed out; undefined if unknown or ended. */
  async use(token: string): Promise<SessionLookup> {
    if (!token) return undefined;
    const hash = tokenHash(token);
    const stored = await this.redis.hgetall(this.key(hash));
    if (!stored.principal) return (await this.redis.exists(this.issuedKey(hash))) === 1 ? { expired: true } : undefined;
    const now = Date.now();
    const ttl = renewalMs(now, Number(stored.endsAt), this.config().idleSeconds * 1000);
    if (ttl <= 0) return { expired: true };
    await this.redis.pexpire(this.key(hash), ttl);
    return { session: this.shape(stored, now + ttl), hash };
  }

  /** Ends one session (sign-out). Returns the person it belonged to. */
  async end(token: string): Promise<string | undefined> {
    const hash = tokenHash(token);
    const stored = await this.redis.hgetall(this.key(hash));
    const name = stored.principal
      ? (JSON.parse(stored.principal) as Principal).name
      : ((await this.redis.get(this.issuedKey(hash))) ?? undefined);
    const multi = this.redis.multi().del(this.key(hash), this.issuedKey(hash));
    if (name) multi.srem(this.personKey(name), hash);
    await multi.exec();
    return name;
  }

  /** Ends every session of a person, except the one with hash `keep`. Returns how many were alive. */
  async endAll(name: string, keep?: string): Promise<number> {
    const hashes = (await this.redis.smembers(this.personKey(name))).filter((h) => h !== keep);
    if (hashes.length === 0) return 0;
    const res = await this.redis
      .multi()
      .del(...hashes.map((h) => this.key(h)))
      .del(...hashes.map((h) => this.issuedKey(h)))
      .srem(this.personKey(name), ...hashes)
      .exec();
    return Number(res?.[0]?.[1] ?? 0);
  }

  private shape(stored: Record<string, string>, expiresAtMs: number): Session {
    return {
      principal: JSON.parse(stored.principal!) as Principal,
      ...(stored.displayName ? { displayName: stored.displayName } : {}),
      issuedAt: new Date(Number(stored.issuedAt)).toISOString(),
      expiresAt: new Date(expiresAtMs).toISOString(),
      endsAt: new Date(Number(stored.endsAt)).toISOString(),
    };
  }
}
