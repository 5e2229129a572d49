// Live call state in Redis: one JSON document per call plus a set of live call ids.
import type { Redis } from '../store/redis.js';
import type { CallPersistence, CallRecordState } from './call.js';

export class CallStore implements CallPersistence {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(callId: string): string {
    return `${this.prefix}:call:${callId}`;
  }

  private get liveKey(): string {
    return `${this.prefix}:calls:live`;
  }

  async save(state: CallRecordState): Promise<void> {
    await this.redis.multi().set(this.key(state.callId), JSON.stringify(state)).sadd(this.liveKey, state.callId).exec();
  }

  async load(callId: string): Promise<CallRecordState | undefined> {
    const raw = await this.redis.get(this.key(callId));
    return raw ? (JSON.parse(raw) as CallRecordState) : undefined;
  }

  async remove(callId: string): Promise<void> {
    await this.redis.multi().del(this.key(callId)).srem(this.liveKey, callId).exec();
  }

  async liveCallIds(): Promise<string[]> {
    return this.redis.smembers(this.liveKey);
  }

  async asteriskStartup(): Promise<string | null> {
    return this.redis.get(`${this.prefix}:asterisk:startup`);
  }

  async setAsteriskStartup(value: string): Promise<void> {
    await this.redis.set(`${this.prefix}:asterisk:startup`, value);
  }
}
