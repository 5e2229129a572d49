// The sign-in audit stream `<prefix>:audit:sign-in`: every sign-in, sign-out, failure,
// lockout, revocation and account change, with who, from where and when. Append-only; the
// stream is trimmed near a million entries like the other audit streams. No password, token
// or hash is ever written here.
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export type SignInEvent =
  | 'sign-in'
  | 'sign-out'
  | 'failure'
  | 'lockout'
  | 'locked-attempt'
  | 'revoke'
  | 'password-change'
  | 'account-put'
  | 'phone-credentials';

export interface Client {
  /** The client's address as the controller sees it. */
  address: string;
  userAgent?: string;
}

export interface AuditEntry {
  event: SignInEvent;
  /** The person concerned (as typed, for a failed sign-in). */
  name: string;
  /** Who did it, when not the person themselves (an admin revoking). */
  by?: string;
  reason?: string;
  [field: string]: string | number | boolean | undefined;
}

export class SignInAudit {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:audit:sign-in`;
  }

  async record(entry: AuditEntry, client: Client): Promise<void> {
    await appendToStream(this.redis, this.key, {
      ...entry,
      address: client.address,
      userAgent: client.userAgent?.slice(0, 200),
      at: new Date().toISOString(),
    });
  }
}
