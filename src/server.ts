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
import { GreetingFlow } from './ivr/greeting-flow.js';
import { loadPromptCatalog, prepareCatalog } from './ivr/prompts.js';
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
  const media = await prepareCatalog(promptPaths, loadPromptCatalog(config.prompts.catalog));

  const redis: Redis = connectRedis(config.redis.url, logger);
  const ari = new AriClient({ ...config.ari, logger });
  const ami = new AmiClient({ ...config.ami, logger });
  const calls = new CallService(ari, new CallStore(redis, config.redis.prefix), new GreetingFlow({
    welcome: media.get('welcome')!,
    goodbye: media.get('goodbye')!,
  }), logger);

  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true }) as unknown as FastifyInstance;
  registerErrorHandler(app);
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
      await app.close();
      await ari.stop();
      await calls.drain();
      await ami.stop();
      redis.disconnect();
    },
  };
}
