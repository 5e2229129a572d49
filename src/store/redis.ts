// Redis connection for live state ("what we decided"). ioredis reconnects forever on its
// own; we only log transitions and expose readiness.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type { Redis } from 'ioredis';

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(5_000, 100 * 2 ** Math.min(times, 6)),
    enableOfflineQueue: true,
  });
  let wasReady = false;
  redis.on('ready', () => {
    wasReady = true;
    logger.info({ redis: redact(url) }, 'Redis connected');
  });
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'Redis error'));
  redis.on('end', () => {
    if (wasReady) logger.warn('Redis connection ended');
  });
  return redis;
}

export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
