// Wires the domains together; nothing else does.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { registerErrorHandler } from './api/errors.js';
import { registerHealthRoutes } from './api/health.js';
import { AmiClient } from './asterisk/ami.js';
import { AriClient } from './asterisk/ari.js';
import { CallService } from './calls/service.js';
import type { Call } from './calls/call.js';
import type { AriEvent } from './asterisk/ari.js';
import { SupervisionService } from './supervision/service.js';
import { registerSupervisionRoutes } from './supervision/routes.js';
import { CallStore } from './calls/store.js';
import type { Config } from './config/index.js';
import { AgentDesk } from './acd/agents.js';
import { QueueStats } from './acd/figures.js';
import { parseQueueConfig, type QueueConfig } from './acd/queue-config.js';
import { AgentProvisioning } from './acd/provisioning.js';
import { mergeRoster, parseRoster, type AgentDefinition, type Roster } from './acd/roster.js';
import { allFigures, registerAcdRoutes } from './acd/routes.js';
import { Router } from './acd/router.js';
import { AcdService } from './acd/service.js';
import { registerEventStream } from './api/events.js';
import { Authenticator, requireRole } from './api/auth.js';
import { registerApiDocs } from './api/docs.js';
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

  // Queues and roster: a broken edit is refused at start; while running, the last good
  // version keeps serving (see reloadAcdConfig).
  let queueConfig: QueueConfig = parseQueueConfig(config.flows.queues);
  let fileRoster: Roster = parseRoster(config.acd.agents);
  let apiAgents: AgentDefinition[] = [];
  let roster: Roster = fileRoster;

  const ari = new AriClient({ ...config.ari, logger });
  const ami = new AmiClient({ ...config.ami, logger });
  const prompts = new PromptResolver(promptPaths, catalog);
  const callbacks = new CallbackTasks(redis, prefix);
  const router = new Router(redis, prefix);
  const stats = new QueueStats(redis, prefix);
  const acd = new AcdService({
    ari, router, stats, redis, prefix, callbacks, logger,
    queues: () => queueConfig, roster: () => roster,
    speak: (text) => prompts.resolve({ text }),
  });
  const provisioning = new AgentProvisioning(ari, redis, prefix, config.acd.agentSipSecret, logger);
  const refreshRoster = async (): Promise<void> => {
    apiAgents = await provisioning.agents();
    roster = mergeRoster(fileRoster, apiAgents);
  };
  const desk = new AgentDesk(redis, prefix, router, acd, () => roster, provisioning, (id) => fileRoster.agents.has(id), refreshRoster);
  // Agents pushed into Asterisk are lost when it restarts: push them on every connect.
  ari.on('connected', () => void provisioning.pushAll());
  const legHandlers: Array<{ onEvent(call: Call, event: AriEvent): Promise<boolean>; onEnd(call: Call): Promise<void> }> = [];
  const runner = new IvrRunner({ registry, prompts, acd, callbacks, logger, legHandlers });
  const calls = new CallService(ari, new CallStore(redis, prefix), runner, logger);
  acd.bindCalls(calls);
  const supervision = new SupervisionService({ ari, calls, acd, redis, prefix, logger });
  legHandlers.push(supervision);
  const figures = () => allFigures(acd, stats, desk, () => [...queueConfig.queues.keys()]);

  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  await registerApiDocs(app);
  const authn = new Authenticator(config.auth);
  registerFlowRoutes(app, registry, requireRole(authn, 'ops'));
  registerAcdRoutes(app, desk, acd, figures, authn);
  registerSupervisionRoutes(app, supervision, calls, (id) => desk.teamOf(id), authn);
  const events = registerEventStream(app, { authn, allowedOrigins: config.http.allowedOrigins ?? [], teamOf: (id) => desk.teamOf(id) });
  acd.on('agent', (event: Record<string, unknown>) => events.publish({ ...event, type: `agent.${String(event.type)}` }));
  let figuresTimer: NodeJS.Timeout | undefined;
  let rosterTimer: NodeJS.Timeout | undefined;
  const reloadAcdConfig = async (): Promise<void> => {
    try {
      const nextQueues = parseQueueConfig(config.flows.queues);
      const nextRoster = parseRoster(config.acd.agents);
      queueConfig = nextQueues;
      fileRoster = nextRoster;
      await refreshRoster();
      await desk.sync();
      logger.info({ queues: queueConfig.queues.size, agents: roster.agents.size }, 'queues and roster reloaded');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'queues or roster edit rejected; the last good version keeps serving');
    }
  };
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
      await refreshRoster();
      await desk.sync();
      await acd.start();
      process.on('SIGHUP', () => void reloadAcdConfig());
      // Agents another controller added through the API.
      rosterTimer = setInterval(() => void refreshRoster().catch(() => undefined), 5000);
      figuresTimer = setInterval(() => {
        if (events.clients === 0) return;
        void figures().then((queues) => events.publish({ type: 'queue.figures', queues }), () => undefined);
      }, 1000);
      ari.start();
      ami.start();
      return app.listen({ host: config.http.host, port: config.http.port });
    },
    async stop() {
      registry.close();
      clearInterval(figuresTimer);
      clearInterval(rosterTimer);
      events.close();
      await acd.stop();
      await app.close();
      await ari.stop();
      calls.stopTimers();
      await calls.drain();
      await ami.stop();
      redis.disconnect();
    },
  };
}
