// Wires the domains together; nothing else does.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { registerErrorHandler } from './api/errors.js';
import { registerHealthRoutes } from './api/health.js';
import { AmiClient } from './asterisk/ami.js';
import { AriClient } from './asterisk/ari.js';
import { CallService } from './calls/service.js';
import { CallStore } from './calls/store.js';
import type { Config } from './config/index.js';
import { WaitingList } from './acd/waiting.js';
import { requireAdmin } from './api/auth.js';
import { CallbackTasks } from './ivr/callbacks.js';
import { loadPromptCatalog, prepareCatalog } from './ivr/prompts.js';
import { FlowRegistry } from './ivr/registry.js';
import { registerFlowRoutes } from './ivr/routes.js';
import { IvrRunner, PromptResolver } from './ivr/runner.js';
import { redisVersionStore } from './ivr/version-store.js';
import { connectRedis, redisReady, type Redis } from './store/redis.js';

export interface Rexian {
  app: FastifyInstance;
  logger: Logger;
  start(): Promise<string>;
  /** Stops taking events and requests. Live calls stay in Asterisk for the next process. */
  stop(): Promise<void>;
}

export async function createRexian(config: Config, logger: Logger = pino({ level: config.log.level, base: { service: 'rexian' } })): Promise<Rexian> {
  const promptPaths = { dir: config.prompts.dir, asteriskDir: config.prompts.asteriskDir, recordedDir: config.prompts.recordedDir };
  const catalog = loadPromptCatalog(config.prompts.catalog);
  await prepareCatalog(promptPaths, catalog); // synthesize now, not while a citizen waits

  const redis: Redis = connectRedis(config.redis.url, logger);
  const prefix = config.redis.prefix;
  const registry = new FlowRegistry({
    flowsDir: config.flows.dir, queuesFile: config.flows.queues,
    promptCatalog: config.prompts.catalog, recordedDir: config.prompts.recordedDir,
  }, logger, redisVersionStore(redis, prefix));
  registry.reload();
  if (registry.calendarProblem) throw new Error(`cannot start without a working calendar: ${registry.calendarProblem}`);
  registry.watch();

  const ari = new AriClient({ ...config.ari, logger });
  const ami = new AmiClient({ ...config.ami, logger });
  const runner = new IvrRunner({
    registry, prompts: new PromptResolver(promptPaths, catalog),
    waiting: new WaitingList(redis, prefix), callbacks: new CallbackTasks(redis, prefix), logger,
  });
  const calls = new CallService(ari, new CallStore(redis, prefix), runner, logger);

  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  registerFlowRoutes(app, registry, requireAdmin(config.auth.adminToken));
  registerHealthRoutes(app, {
    checks: () => ({
      ari: { ok: calls.ready, detail: ari.connected ? 'reconciling' : `not connected to ${config.ari.url}` },
      ami: { ok: ami.connected, detail: `not connected to ${config.ami.host}:${config.ami.port}` },
      redis: { ok: redisReady(redis), detail: `status ${redis.status}` },
    }),
  });

  return {
    app,
    logger,
    async start() {
      ari.start();
      ami.start();
      return app.listen({ host: config.http.host, port: config.http.port });
    },
    async stop() {
      registry.close();
      await app.close();
      await ari.stop();
      calls.stopTimers();
      await calls.drain();
      await ami.stop();
      redis.disconnect();
    },
  };
}
