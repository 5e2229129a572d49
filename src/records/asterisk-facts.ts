// What Asterisk itself knows about the end of a hotline call, read back from its AstDB.
// The dialplan's hangup handler ([rexian-hangup] in dialplans/extensions.conf) runs at the
// citizen's hang-up whether or not a controller is connected, and stores there when the
// channel went away, why (the Q.850 cause) and who hung up; for a call that no controller
// ever had (the dialplan fallback served it) the whole story: line, caller, start, queue,
// the agent who answered. AstDB outlives a controller crash and an Asterisk restart, and
// AMI reaches it wherever Asterisk runs, so nothing depends on a shared disk.
//
// Two uses: a call found gone at reconcile takes its end from here instead of the time we
// noticed (issue 12 item 7), and every fallback call becomes a record marked as such
// (item 6). Entries are deleted only after what they gave is in the outbox; a crash in
// between replays them, and the call id (Asterisk's uniqueid) makes the replay a no-op.
import { randomBytes } from 'node:crypto';

import type { Logger } from 'pino';

import type { AmiClient } from '../asterisk/ami.js';

export interface EndFacts {
  /** When the channel went away (Asterisk's clock, to the millisecond). */
  endedAt: Date;
  /** Q.850 cause code (16 normal clearing, 17 busy …). */
  cause: number | null;
  /** Who hung up: the citizen's own channel, an agent's, or neither (Asterisk or the system). */
  side: 'citizen' | 'agent' | 'system';
  /** The channel Asterisk names as responsible for the hang-up ('' when none). */
  source: string;
}

export interface FallbackFacts extends EndFacts {
  callId: string;
  did: string;
  caller: string;
  startedAt: Date;
  queuedAt: Date | null;
  answeredAt: Date | null;
  /** The agent id (the PJSIP endpoint agent-<id>) who answered in app_queue. */
  agentId: string | null;
}

export const ENDED_FAMILY = 'rexian/ended';
export const FALLBACK_FAMILY = 'rexian/fallback';

const fromBase64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');
const epoch = (text: string | undefined): Date | null => {
  const seconds = Number(text);
  return text && Number.isFinite(seconds) && seconds > 0 ? new Date(Math.round(seconds * 1000)) : null;
};

/** Who hung up, from CHANNEL(hangupsource) and the channel's own name. */
export function hangupSide(source: string, self: string): EndFacts['side'] {
  if (source && source === self) return 'citizen';
  if (/^PJSIP\/agent-/.test(source)) return 'agent';
  return 'system';
}

/** Parses an `rexian/ended` value: `1|end|cause|source64|self64`. Undefined when unreadable. */
export function parseEndFacts(value: string): EndFacts | undefined {
  const [version, end, cause, source64, self64] = value.split('|');
  const endedAt = epoch(end);
  if (version !== '1' || !endedAt) return undefined;
  const source = fromBase64(source64);
  const numeric = Number(cause);
  return {
    endedAt,
    cause: cause && Number.isInteger(numeric) ? numeric : null,
    side: hangupSide(source, fromBase64(self64)),
    source,
  };
}

/** Parses an `rexian/fallback` value: the end facts, then `did|caller64|started|queued|answered|agent`. */
export function parseFallbackFacts(callId: string, value: string): FallbackFacts | undefined {
  const fields = value.split('|');
  const end = parseEndFacts(fields.slice(0, 5).join('|'));
  const [did, caller64, started, queued, answered, endpoint] = fields.slice(5);
  const startedAt = epoch(started);
  if (!end || !did || !startedAt) return undefined;
  const answeredAt = epoch(answered);
  return {
    ...end,
    callId,
    did,
    caller: fromBase64(caller64),
    startedAt,
    queuedAt: epoch(queued),
    answeredAt,
    agentId: answeredAt && endpoint ? endpoint.replace(/^agent-/, '') : null,
  };
}

/** AstDB through AMI: get, list a family, delete. */
export class AsteriskDb {
  constructor(private readonly ami: AmiClient) {}

  get connected(): boolean {
    return this.ami.connected;
  }

  /** Waits (at most timeoutMs) for AMI to be connected; false if it is not by then. */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.ami.connected) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ami.off('connected', up);
        resolve(this.ami.connected);
      }, timeoutMs);
      const up = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.ami.once('connected', up);
    });
  }

  async get(family: string, key: string): Promise<string | undefined> {
    const entries = await this.list(family, key);
    return entries.get(key);
  }

  /**
   * Entries of a family (or one key of it), key → value. DBGetTree answers with a list of
   * DBGetTreeResponse events carrying our ActionID, closed by DBGetTreeComplete.
   */
  async list(family: string, key?: string): Promise<Map<string, string>> {
    const actionId = `rexian-db-${randomBytes(6).toString('hex')}`;
    const found = new Map<string, string>();
    const prefix = `/${family}/`;
    let finish: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const onEvent = (e: Record<string, string>): void => {
      if (e.actionid !== actionId) return;
      if (e.event === 'DBGetTreeResponse' && e.key?.startsWith(prefix))
        found.set(e.key.slice(prefix.length), e.val ?? '');
      else if (e.event === 'DBGetTreeComplete') finish?.();
    };
    this.ami.on('event', onEvent);
    try {
      const res = await this.ami
        .action({ action: 'DBGetTree', family, ...(key ? { key } : {}), actionid: actionId })
        .catch((err: unknown) => {
          // An empty family is an error to Asterisk ("Database entry not found"), not to us.
          if (/not found/i.test(JSON.stringify(err) + String((err as Error).message))) return { response: 'Empty' };
          throw err;
        });
      if (res.response === 'Empty') return found;
      await Promise.race([
        done,
        new Promise<void>((_, reject) =>
          setTimeout(() => reject(new Error(`AMI DBGetTree ${family} unfinished after 5 s`)), 5_000).unref(),
        ),
      ]);
      return found;
    } finally {
      this.ami.off('event', onEvent);
    }
  }

  async del(family: string, key: string): Promise<void> {
    await this.ami.action({ action: 'DBDel', family, key }).catch((err: unknown) => {
      if (!/not found|failed/i.test(JSON.stringify(err) + String((err as Error).message))) throw err;
    });
  }
}

/**
 * The end facts of a call found gone at reconcile. Waits a little for AMI at a (re)start,
 * when ARI often connects first; once AMI was found down, later calls do not wait again
 * (a reconcile of many calls must not stall on it). Undefined: Asterisk kept nothing (the
 * call ended in an Asterisk crash, or before this dialplan was loaded).
 */
export class EndFactsReader {
  private gaveUpAt = 0;

  constructor(
    private readonly db: AsteriskDb,
    private readonly logger: Logger,
  ) {}

  async read(channelId: string): Promise<EndFacts | undefined> {
    const wait = Date.now() - this.gaveUpAt > 30_000 ? 5_000 : 0;
    if (!(await this.db.ready(wait))) {
      this.gaveUpAt = Date.now();
      this.logger.warn(
        { channelId },
        'AMI not connected: a call that ended while no controller ran gets the time we noticed',
      );
      return undefined;
    }
    try {
      const value = await this.db.get(ENDED_FAMILY, channelId);
      return value === undefined ? undefined : parseEndFacts(value);
    } catch (err) {
      this.logger.warn({ channelId, err: (err as Error).message }, "cannot read what Asterisk kept about a call's end");
      return undefined;
    }
  }

  /** After the record is in the outbox. */
  async forget(channelId: string): Promise<void> {
    await this.db
      .del(ENDED_FAMILY, channelId)
      .catch((err: unknown) =>
        this.logger.debug({ channelId, err: (err as Error).message }, 'end facts not deleted; the sweep will'),
      );
  }
}
