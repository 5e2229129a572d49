// Satisfaction survey answers, kept with the call and the agent who served it, in a Redis
// stream (the durable call record in PostgreSQL takes them from there).
import type { Redis } from '../store/redis.js';
import { appendToStream } from '../store/streams.js';

export interface SurveyAnswer {
  callId: string;
  agentId?: string;
  queue?: string;
  did: string;
  /** satisfied, basically-satisfied, dissatisfied … as the survey flow names them. */
  answer: string;
  flowId: string;
}

export class SurveyAnswers {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:surveys`;
  }

  add(answer: SurveyAnswer): Promise<string> {
    return appendToStream(this.redis, this.key, { ...answer, at: new Date().toISOString() });
  }
}
