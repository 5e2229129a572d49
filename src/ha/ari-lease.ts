// Controllers in pairs: which controller of an Asterisk node drives it. Asterisk gives an ARI
// application to one WebSocket (a second connection replaces the first), so two controllers of
// one node must agree which of them connects: the one that holds this Redis key. It is taken
// with SET NX PX and renewed by its holder with a compare-and-extend script; the other process
// stands by, trying again every retryEveryMs, and takes over once the holder stops renewing
// (killed, hung, cut off from Redis), that is within ttlMs + retryEveryMs.
//
// Fencing: a holder that has not renewed by the end of its lease (less a margin for clocks that
// run at different rates) must stop driving Asterisk before anyone else may take it: `onLost`
// runs at once, and the server stops ARI and exits (src/main.ts). So does a holder that finds
// another process's name in the key. A key that vanished while ours was valid (Redis flushed,
// failed over to a replica that never had it) is taken back, not given up.
import type { Logger } from 'pino';

import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import type { Redis } from '../store/redis.js';

/**
 * Where one Asterisk node's lease lives: one per ARI scope (src/calls/store.ts asteriskScope) and
 * application, since Asterisk gives each app name to one WebSocket (two apps are two drivers).
 */
export function ariLeaseKey(prefix: string, scope: string, app: string): string {
  return `${prefix}:asterisk:${scope}:ari-lease:${app}`;
}

export interface LeaseTimings {
  /** How long a lease lasts unless renewed. */
  ttlMs: number;
  /** How often the holder renews (several renewals fit in one ttl). */
  renewEveryMs: number;
  /** How often a standby asks for the lease. */
  retryEveryMs: number;
}

/** Takeover within 5 s of a kill -9: at most ttl (3 s) + one retry (0.25 s) + ARI connect and reconcile. */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { ttlMs: 3_000, renewEveryMs: 1_000, retryEveryMs: 250 };

/** The `ha` block of the configuration, with defaults; refused when a renewal could not fit in a lease. */
export function leaseTimings(
  ha: { leaseTtlMs?: number; renewEveryMs?: number; retryEveryMs?: number } = {},
): LeaseTimings {
  const timings = {
    ttlMs: ha.leaseTtlMs ?? DEFAULT_LEASE_TIMINGS.ttlMs,
    renewEveryMs: ha.renewEveryMs ?? DEFAULT_LEASE_TIMINGS.renewEveryMs,
    retryEveryMs: ha.retryEveryMs ?? DEFAULT_LEASE_TIMINGS.retryEveryMs,
  };
  if (timings.renewEveryMs * 2 > timings.ttlMs || timings.retryEveryMs >= timings.ttlMs)
    throw new RexianError(
      'REXIAN_CONFIG_INVALID',
      { key: 'ha' },
      `ha: renewEveryMs (${timings.renewEveryMs}) must be at most half of leaseTtlMs (${timings.ttlMs}), and retryEveryMs (${timings.retryEveryMs}) below it`,
    );
  return timings;
}

export type AriRole = 'standby' | 'active' | 'fenced' | 'stopped';

/** How long before Redis ends a lease its holder gives up: a tenth of it, at least 100 ms. */
function fenceMargin(ttlMs: number): number {
  return Math.max(100, Math.round(ttlMs / 10));
}

export interface AriLeaseOptions extends LeaseTimings {
  /** A connection of its own: a renewal never waits behind the domains' commands. */
  redis: Redis;
  key: string;
  /** This process's controller id, written into the key. */
  holder: string;
  logger: Logger;
  /** The lease is ours: start driving Asterisk (ARI last). A rejection gives the lease up (onLost). */
  onAcquired: () => Promise<void>;
  /** The lease is no longer ours, or may not be: stop driving Asterisk now, synchronously. */
  onLost: (reason: string) => void;
}

// KEYS[1] the lease; ARGV holder, ttl. Returns { 1, holder } when taken, else { 0, current holder }.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return { 1, ARGV[1] } end
return { 0, redis.call('GET', KEYS[1]) or '' }
`;

// KEYS[1] the lease; ARGV holder, ttl. 1: extended. 2: the key was gone (Redis lost it) and is
// ours again. 0: another process holds it.
const RENEW = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
`;

// KEYS[1] the lease; ARGV holder. Deletes the key only if we hold it (a clean stop hands over at once).
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type LeaseCommands = {
  rexianLeaseAcquire(key: string, holder: string, ttlMs: number): Promise<[number, string]>;
  rexianLeaseRenew(key: string, holder: string, ttlMs: number): Promise<number>;
  rexianLeaseRelease(key: string, holder: string): Promise<number>;
};

export class AriLease {
  private state: AriRole = 'standby';
  private seenHolder = '';
  private validUntil = 0;
  private loop: NodeJS.Timeout | undefined;
  private fence: NodeJS.Timeout | undefined;
  private renewFailing = false;
  private since = Date.now();
  private readonly log: Logger;
  private readonly commands: LeaseCommands;

  constructor(private readonly options: AriLeaseOptions) {
    leaseTimings({ leaseTtlMs: options.ttlMs, renewEveryMs: options.renewEveryMs, retryEveryMs: options.retryEveryMs });
    this.log = options.logger.child({ domain: 'ha', lease: options.key });
    const { redis } = options;
    redis.defineCommand('rexianLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('rexianLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('rexianLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.commands = redis as unknown as LeaseCommands;
  }

  get role(): AriRole {
    return this.state;
  }

  /** The controller that held the lease when we last looked ('' when nobody did, or Redis did not answer). */
  get holder(): string {
    return this.state === 'active' ? this.options.holder : this.seenHolder;
  }

  /**
   * Whether this process may send Asterisk a request now. A holder whose lease ran out (it was
   * frozen past its end: a long pause, SIGSTOP) may wake with requests queued before its fence
   * timer fires, and another controller may already drive the node; so the answer is checked
   * against the clock, not the role. A standby may send the REST requests that drive no call
   * (pushing an agent's endpoint); a fenced process nothing.
   */
  get mayDrive(): boolean {
    if (this.state === 'fenced') return false;
    if (this.state !== 'active') return true;
    return Date.now() < this.validUntil - fenceMargin(this.options.ttlMs);
  }

  /** Since when this process has had its role (ms since the epoch). */
  get roleSince(): number {
    return this.since;
  }

  /** Asks once now (a lone controller is active when start returns), then keeps asking or renewing. */
  async start(): Promise<void> {
    if (this.state !== 'standby' || this.loop) return;
    await this.tryAcquire();
  }

  /** Stops asking; a holder lets go of the key, so its standby takes over within retryEveryMs. */
  async stop(): Promise<void> {
    const wasActive = this.state === 'active';
    this.setRole('stopped');
    this.clearTimers();
    if (!wasActive) return;
    await this.commands.rexianLeaseRelease(this.options.key, this.options.holder).then(
      (released) => this.log.info({ released: released === 1 }, 'ARI lease released: the standby may take over'),
      (err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not release the ARI lease; it expires'),
    );
  }

  private async tryAcquire(): Promise<void> {
    if (this.state !== 'standby') return;
    const sentAt = Date.now();
    const { key, holder, ttlMs } = this.options;
    let taken = false;
    try {
      const [won, current] = await this.commands.rexianLeaseAcquire(key, holder, ttlMs);
      if (this.state !== 'standby') return; // stopped meanwhile
      taken = won === 1;
      if (!taken && current && current !== this.seenHolder)
        this.log.info({ holder: current }, 'standing by: ARI is held by another controller');
      this.seenHolder = taken ? holder : current;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not ask for the ARI lease; asking again');
    }
    if (!taken) {
      this.schedule(() => this.tryAcquire(), this.options.retryEveryMs);
      return;
    }
    this.extendValidity(sentAt);
    this.setRole('active');
    this.log.warn(
      { event: LogEvent.leaseTaken, holder, ttlMs },
      'ARI lease taken: this controller now drives Asterisk',
    );
    this.schedule(() => this.renew(), this.options.renewEveryMs);
    try {
      await this.options.onAcquired();
    } catch (err) {
      this.lose(`could not start driving Asterisk: ${(err as Error).message}`);
    }
  }

  private async renew(): Promise<void> {
    if (this.state !== 'active') return;
    const sentAt = Date.now();
    const { key, holder, ttlMs } = this.options;
    try {
      const result = await this.commands.rexianLeaseRenew(key, holder, ttlMs);
      if (this.state !== 'active') return;
      if (result === 0) {
        this.lose('another controller holds the ARI lease');
        return;
      }
      if (result === 2) this.log.warn('the ARI lease had vanished from Redis (flushed, failed over): taken back');
      if (this.renewFailing) this.log.info('ARI lease renewed again');
      this.renewFailing = false;
      this.extendValidity(sentAt);
    } catch (err) {
      if (this.state !== 'active') return;
      if (!this.renewFailing)
        this.log.warn(
          { err: (err as Error).message, validForMs: this.validUntil - Date.now() },
          'could not renew the ARI lease; trying until it runs out',
        );
      this.renewFailing = true;
    }
    this.schedule(() => this.renew(), this.options.renewEveryMs);
  }

  /** Valid from when the request left, not when its answer came: Redis started the ttl in between. */
  private extendValidity(sentAt: number): void {
    const { ttlMs } = this.options;
    this.validUntil = sentAt + ttlMs;
    // Clocks run at slightly different rates: give up a tenth of the lease before Redis does.
    const deadline = this.validUntil - fenceMargin(ttlMs);
    clearTimeout(this.fence);
    this.fence = setTimeout(
      () => this.lose('the ARI lease could not be renewed before it ran out'),
      deadline - Date.now(),
    );
  }

  private lose(reason: string): void {
    if (this.state !== 'active') return;
    this.setRole('fenced');
    this.clearTimers();
    this.log.error(
      { event: LogEvent.leaseLost, reason, holder: this.options.holder },
      'ARI lease lost: this controller stops driving Asterisk',
    );
    this.options.onLost(reason);
  }

  private schedule(step: () => Promise<void>, delayMs: number): void {
    clearTimeout(this.loop);
    this.loop = setTimeout(() => void step(), delayMs);
  }

  private clearTimers(): void {
    clearTimeout(this.loop);
    clearTimeout(this.fence);
    this.loop = undefined;
    this.fence = undefined;
  }

  private setRole(role: AriRole): void {
    if (this.state === role) return;
    this.state = role;
    this.since = Date.now();
  }
}
