// The core every domain is built on: configuration, logger, Redis, PostgreSQL, ARI, AMI, the
// calls domain with its records, the event notifier, the HTTP app and who may use it. Domains
// (src/*/module.ts) get this object and nothing wider; server.ts builds it, then the domains.
//
// The records are part of the core because a call cannot end without one: CallService hands
// every ended call to the records (the outbox, then PostgreSQL by the writer), and reconcile asks
// them what Asterisk saw of calls that ended while no controller ran.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';

import { Router } from './acd/router.js';
import { Authenticator } from './api/auth.js';
import { registerApiDocs } from './api/docs.js';
import { registerErrorHandler } from './api/errors.js';
import { CallForwarder } from './api/forward.js';
import { registerValidation } from './api/validation.js';
import { AmiClient } from './asterisk/ami.js';
import { AriClient } from './asterisk/ari.js';
import { repoRoot } from './asterisk/instance.js';
import type { PrivacyPolicy } from './calls/privacy.js';
import { CallService } from './calls/service.js';
import { asteriskScope, CallStore } from './calls/store.js';
import type { Config } from './config/index.js';
import type { Domain } from './domain.js';
import { type SeatEdge, seatEdgeFor } from './edge/seat-client.js';
import { EventNotifier } from './events/notifier.js';
import { loadPromptCatalog, prepareCatalog } from './ivr/prompts.js';
import { PromptResolver } from './ivr/prompts.js';
import { buildCallRecord } from './records/call-record.js';
import { type RecordsDomain, recordsDomain } from './records/module.js';
import { RecordOutbox, RecordWriter } from './records/outbox.js';
import { registerRecordRoutes } from './records/routes.js';
import { connectRedis, type Redis } from './store/redis.js';

export interface Core {
  config: Config;
  logger: Logger;
  redis: Redis;
  /** The Redis key prefix (config.redis.prefix). */
  prefix: string;
  pool: pg.Pool;
  ari: AriClient;
  ami: AmiClient;
  /** This process's id: in call ownership, consumer groups, heartbeats. */
  controllerId: string;
  /** Which Asterisk this controller drives, in keys shared with its pair. */
  scope: string;
  /** Where the other controller of a pair, or a page, reaches this one. */
  advertiseUrl: string;
  migrationsDir: string;
  notifier: EventNotifier;
  /** Prompts by catalogue name or text, synthesized at start (the IVR and the ACD speak). */
  prompts: PromptResolver;
  calls: CallService;
  callStore: CallStore;
  records: RecordsDomain;
  outbox: RecordOutbox;
  /** Which calls are masked (the virtual pool, the queues' callerNumber policy), as configured now. */
  privacy: PrivacyPolicy;
  app: FastifyInstance;
  authn: Authenticator;
  /** Sends a request about a call (or an agent's call) to the controller that holds it. */
  forwarder: CallForwarder;
  /** The SIP edge the seats register at, and its running password table (config.edge); none without an edge. */
  seatEdge?: SeatEdge;
}

export interface CorePolicies {
  /** Which calls are masked, from the configuration as it is now. */
  privacy: PrivacyPolicy;
  /** The general queue's short-abandon threshold, for the calls the dialplan fallback served. */
  shortAbandonMs: () => number;
}

export async function createCore(config: Config, logger: Logger, policies: CorePolicies): Promise<Core> {
  const promptPaths = {
    dir: config.prompts.dir,
    asteriskDir: config.prompts.asteriskDir,
    recordedDir: config.prompts.recordedDir,
  };
  const catalog = loadPromptCatalog(config.prompts.catalog);
  await prepareCatalog(promptPaths, catalog); // synthesize now, not while a citizen waits

  const redis = connectRedis(config.redis, logger);
  const prefix = config.redis.prefix;
  const ari = new AriClient({ ...config.ari, logger });
  const ami = new AmiClient({ ...config.ami, logger });
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 4, connectionTimeoutMillis: 3_000 });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'PostgreSQL connection lost'));
  const scope = asteriskScope(config.ari.url);
  const controllerId = `ctl-${randomBytes(5).toString('hex')}`;
  const outbox = new RecordOutbox(redis, prefix);
  const callStore = new CallStore(redis, prefix, scope);
  // A call's record as it ends, Asterisk's end facts for calls that ended while we were away,
  // the calls the dialplan fallback served, the dead letters.
  const records = recordsDomain({
    redis,
    pool,
    outbox,
    ami,
    logger: logger.child({ domain: 'records' }),
    privacy: policies.privacy,
    build: (state, endedAt, reason) => buildCallRecord(state, endedAt, reason, policies.privacy),
    isLive: async (id) => (await callStore.load(id)) !== undefined,
    shortAbandonMs: policies.shortAbandonMs,
  });
  // The domains are built on the calls domain, then `calls.route` gives it the flow and the
  // event path (server.ts: the order in which domains see a call's events).
  const calls = new CallService({
    ari,
    store: callStore,
    logger,
    controllerId,
    onEnded: (state, reason) => records.onEnded(state, reason),
    endFacts: (channelId) => records.endFacts(channelId),
  });

  // Per-request lines are off: routes log what they did, with the call and the caller.
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  registerValidation(app); // before the routes: their schemas compile with it
  await registerApiDocs(app);

  return {
    config,
    logger,
    redis,
    prefix,
    pool,
    ari,
    ami,
    controllerId,
    scope,
    advertiseUrl:
      config.http.advertiseUrl ??
      `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}`,
    migrationsDir: join(repoRoot, 'migrations'),
    notifier: new EventNotifier(),
    prompts: new PromptResolver(promptPaths, catalog),
    calls,
    callStore,
    records,
    outbox,
    privacy: policies.privacy,
    app,
    authn: new Authenticator(config.auth),
    // The router only as the store of agents' calls (read-only here); routing is the ACD's.
    forwarder: new CallForwarder({ calls, router: new Router(redis, prefix), redis, prefix }),
    seatEdge: seatEdgeFor(config, logger),
  };
}

/**
 * The records as a domain: the dead letters' routes, and the writer (outbox → PostgreSQL) and
 * the collector of calls the dialplan fallback served, which run only in the controller that
 * holds the ARI lease.
 */
export function recordsLifecycle(core: Core): Domain {
  registerRecordRoutes(core.app, core.records.deadLetters, core.authn);
  const writer = new RecordWriter(core.redis, core.outbox, core.pool, core.logger.child({ domain: 'records' }), {
    consumer: core.controllerId,
    migrationsDir: core.migrationsDir,
    isAlive: async (id) => (await core.redis.exists(`${core.prefix}:controller:${id}`)) === 1,
  });
  return {
    name: 'records',
    async activate() {
      await writer.start();
      core.records.start();
    },
    async stop() {
      await writer.stop();
      core.records.stop();
    },
  };
}
