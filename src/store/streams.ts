// Appending a record to a Redis stream: the durable log of things that happened (callbacks,
// survey answers, emergency hand-offs, supervision). Undefined fields are left out, values
// become strings; the stream is trimmed near maxLength so it never grows without bound.
import type { Redis } from './redis.js';

export async function appendToStream(
  redis: Redis,
  key: string,
  record: Record<string, unknown>,
  maxLength = 1_000_000,
): Promise<string> {
  const fields = Object.entries(record).flatMap(([k, v]) => (v === undefined || v === null ? [] : [k, String(v)]));
  return (await redis.xadd(key, 'MAXLEN', '~', maxLength, '*', ...fields)) ?? '';
}
