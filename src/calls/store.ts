// Live call state in Redis: one JSON document per call, a set of the live calls of each
// Asterisk (a controller reconciles against its own switch only), and a set of all live
// calls on the platform (for listings and for finding the controller that holds a call).
import type { Redis } from '../store/redis.js';
import type { CallPersistence, CallRecordState } from './call.js';

/** The Redis scope of one Asterisk, from its ARI address: controllers of one switch share it. */
export function asteriskScope(ariUrl: string): string {
  return new URL(ariUrl).host.replace(/[^A-Za-z0-9.-]/g, '_');
}

/** What the calls domain and its readers need of the live state (CallStore; an in-memory one in unit tests). */
export interface LiveCallStore extends CallPersistence {
  load(callId: string): Promise<CallRecordState | undefined>;
  remove(callId: string): Promise<void>;
  /** The live calls of this controller's Asterisk. */
  liveCallIds(): Promise<string[]>;
  /** Every live call on the platform, whichever Asterisk carries it. */
  allLive(): Promise<CallRecordState[]>;
  /** Asterisk's startup time when this switch was last reconciled; null when Redis has none. */
  asteriskStartup(): Promise<string | null>;
  setAsteriskStartup(value: string): Promise<void>;
}

export class CallStore implements LiveCallStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly scope: string,
  ) {}

  private key(callId: string): string {
    return `${this.prefix}:call:${callId}`;
  }

  private get liveKey(): string {
    return `${this.prefix}:asterisk:${this.scope}:calls:live`;
  }

  private get allKey(): string {
    return `${this.prefix}:calls:all`;
  }

  async save(state: CallRecordState): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(state.callId), JSON.stringify(state))
      .sadd(this.liveKey, state.callId)
      .sadd(this.allKey, state.callId)
      .exec();
  }

  async load(callId: string): Promise<CallRecordState | undefined> {
    const raw = await this.redis.get(this.key(callId));
    return raw ? (JSON.parse(raw) as CallRecordState) : undefined;
  }

  async remove(callId: string): Promise<void> {
    await this.redis.multi().del(this.key(callId)).srem(this.liveKey, callId).srem(this.allKey, callId).exec();
  }

  /** The live calls of this controller's Asterisk. */
  async liveCallIds(): Promise<string[]> {
    return this.redis.smembers(this.liveKey);
  }

  /** Every live call on the platform, whichever Asterisk carries it. */
  async allLive(): Promise<CallRecordState[]> {
    const ids = await this.redis.smembers(this.allKey);
    if (ids.length === 0) return [];
    const docs = await this.redis.mget(ids.map((id) => this.key(id)));
    return docs.flatMap((raw) => (raw ? [JSON.parse(raw) as CallRecordState] : []));
  }

  async asteriskStartup(): Promise<string | null> {
    return this.redis.get(`${this.prefix}:asterisk:${this.scope}:startup`);
  }

  async setAsteriskStartup(value: string): Promise<void> {
    await this.redis.set(`${this.prefix}:asterisk:${this.scope}:startup`, value);
  }
}
