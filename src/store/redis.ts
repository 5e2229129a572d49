// Redis connection for live state ("what we decided"). ioredis reconnects forever on its
// own; we only log transitions and expose readiness.
//
// Under Sentinel (redis.sentinels + redis.masterName) ioredis asks the sentinels where the
// master is, checks the node it reaches is the master (ROLE), and after a failover finds the
// new one by itself: the sentinels' +switch-master tells it at once (failoverDetector), and a
// write answered READONLY (we reached a master that was just made a replica) makes it
// reconnect and send that command again. Every `.duplicate()` (the outbox writer, the stream
// tails, the ACD's subscriber) inherits the same options, so they follow the master too.
// The connection also carries how many replicas must hold a call record before it counts as
// kept (see replicaAck and records/outbox.ts).
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

import type { Config } from '../config/schema.js';
import { LogEvent } from '../events/log-events.js';

export type { Redis } from 'ioredis';

export type RedisConfig = Config['redis'];

/** Emitted on a connection when the server it reaches is another one than before: { from, to } run ids. */
export const MASTER_CHANGED = 'rexian:master-changed';

/** WAIT settings of a connection: a record counts as kept once `replicas` hold it, within `timeoutMs`. */
export interface ReplicaAck {
  replicas: number;
  timeoutMs: number;
}

const replicaAcks = new WeakMap<Redis, ReplicaAck>();

/** Whether an error is a write refused by a replica (the master we knew was demoted). */
export function isReadOnlyError(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

/** Under Sentinel: how long a command waits for a master during a failover, unless configured. */
export const DEFAULT_FAILOVER_WAIT_MS = 10_000;
const RETRY_CAP_MS = 500;

/** How many reconnections (100, 200, 400, then every 0.5 s) fit in a wait of `ms`. */
export function retriesFor(ms: number): number {
  let n = 0;
  for (let waited = 0; waited < ms; n++) waited += Math.min(RETRY_CAP_MS, 100 * 2 ** Math.min(n + 1, 6));
  return Math.max(1, n);
}

/** The ioredis options for a config: a URL's node, or the sentinels' master. */
export function redisOptions(config: RedisConfig): { url?: string; options: RedisOptions } {
  const options: RedisOptions = {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(5_000, 100 * 2 ** Math.min(times, 6)),
    enableOfflineQueue: true,
    // 2: reconnect (to the master the sentinels name now) and send the refused command again.
    reconnectOnError: (err) => (isReadOnlyError(err) ? 2 : false),
  };
  if (!config.sentinels?.length) return { url: config.url, options };
  const url = new URL(config.url);
  const db = Number(url.pathname.slice(1) || 0);
  return {
    options: {
      ...options,
      // A failover takes the sentinels' down-after time and an election: a command waits for the
      // new master (retries every 0.5 s at most) instead of failing the call it serves.
      retryStrategy: (times) => Math.min(RETRY_CAP_MS, 100 * 2 ** Math.min(times, 6)),
      maxRetriesPerRequest: retriesFor(config.failoverWaitMs ?? DEFAULT_FAILOVER_WAIT_MS),
      sentinels: config.sentinels.map(({ host, port }) => ({ host, port })),
      name: config.masterName,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(Number.isInteger(db) && db > 0 ? { db } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(2_000, 100 * 2 ** Math.min(times, 5)),
    },
  };
}

export function connectRedis(config: RedisConfig, logger: Logger): Redis {
  const { url, options } = redisOptions(config);
  const redis = url ? new Redis(url, options) : new Redis(options);
  const where = config.sentinels?.length
    ? `sentinel master ${config.masterName} via ${config.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
    : redact(config.url);
  if ((config.waitReplicas ?? 0) > 0)
    replicaAcks.set(redis, { replicas: config.waitReplicas!, timeoutMs: config.waitTimeoutMs ?? 1_000 });
  let wasReady = false;
  let runId: string | undefined;
  redis.on('ready', () => {
    logger.info(
      { event: wasReady ? LogEvent.redisReconnected : LogEvent.redisConnected, redis: where },
      wasReady ? 'Redis connected again' : 'Redis connected',
    );
    wasReady = true;
    // Another server than before (a failover, or a restart): say so, and let the domains
    // reconcile what they decided with what the new master holds (MASTER_CHANGED).
    void redis.info('server').then(
      (info) => {
        const now = /run_id:(\w+)/.exec(info)?.[1];
        if (runId && now && now !== runId) {
          logger.warn(
            { redis: where, from: runId, to: now },
            'Redis is another server now (a failover or a restart): the last writes before it may be lost',
          );
          redis.emit(MASTER_CHANGED, { from: runId, to: now });
        }
        runId = now ?? runId;
      },
      () => undefined,
    );
  });
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'Redis error'));
  redis.on('end', () => {
    if (wasReady) logger.warn('Redis connection ended');
  });
  return redis;
}

/** How many replicas must hold a record written on this connection; undefined: none asked for. */
export function replicaAck(redis: Redis): ReplicaAck | undefined {
  return replicaAcks.get(redis);
}

/** Sets (or clears) a connection's WAIT settings; connectRedis does it from the config. */
export function setReplicaAck(redis: Redis, ack: ReplicaAck | undefined): void {
  if (ack && ack.replicas > 0) replicaAcks.set(redis, ack);
  else replicaAcks.delete(redis);
}

export function redisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
