// Callback tasks (voicemails, queue callbacks): appended to a Redis stream that the outbound
// dialer consumes. A stream, not a list, so a consumer crash loses no task.
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export interface CallbackTask {
  callId: string;
  did: string;
  caller: string;
  reason: string;
  recording?: string;
  flowId?: string;
}

export class CallbackTasks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:callbacks`;
  }

  async add(task: CallbackTask): Promise<string> {
    return appendToStream(this.redis, this.key, { ...task, createdAt: new Date().toISOString() });
  }
}
