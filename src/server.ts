// Wires the domains together; nothing else does.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import pg from 'pg';
import { type Logger, pino } from 'pino';

import { AgentDesk } from './acd/agents.js';
import { overallFigures, QueueStats } from './acd/figures.js';
import { AgentProvisioning } from './acd/provisioning.js';
import { parseQueueConfig, type QueueConfig } from './acd/queue-config.js';
import { type AgentDefinition, mergeRoster, parseRoster, type Roster } from './acd/roster.js';
import { Router } from './acd/router.js';
import { allFigures, registerAcdRoutes } from './acd/routes.js';
import { AcdService } from './acd/service.js';
import { WaitingList } from './acd/waiting.js';
import { parseWindows, type WindowDirectory } from './acd/windows.js';
import { Authenticator, requireRole } from './api/auth.js';
import { registerApiDocs } from './api/docs.js';
import { registerErrorHandler } from './api/errors.js';
import { registerEventStream } from './api/events.js';
import { CallForwarder } from './api/forward.js';
import { registerHealthRoutes } from './api/health.js';
import { registerValidation } from './api/validation.js';
import { AmiClient } from './asterisk/ami.js';
import type { AriEvent } from './asterisk/ari.js';
import { AriClient } from './asterisk/ari.js';
import { repoRoot } from './asterisk/instance.js';
import type { Call } from './calls/call.js';
import { logRedaction, type PrivacyPolicy } from './calls/privacy.js';
import { CallService } from './calls/service.js';
import { asteriskScope, CallStore } from './calls/store.js';
import type { Config } from './config/index.js';
import { registerDialerRoutes } from './dialer/routes.js';
import { Dialer } from './dialer/service.js';
import { DialerTasks } from './dialer/tasks.js';
import { RexianError } from './errors/index.js';
import { EventNotifier } from './events/notifier.js';
import { CallbackTasks } from './ivr/callbacks.js';
import { loadPromptCatalog, prepareCatalog } from './ivr/prompts.js';
import { FlowRegistry } from './ivr/registry.js';
import { registerFlowRoutes } from './ivr/routes.js';
import { IvrRunner, PromptResolver } from './ivr/runner.js';
import { SurveyAnswers } from './ivr/surveys.js';
import { redisVersionStore } from './ivr/version-store.js';
import { BindingStore } from './masking/bindings.js';
import { MaskedCalls } from './masking/calls.js';
import { parsePool, type VirtualPool } from './masking/pool.js';
import { registerMaskingRoutes } from './masking/routes.js';
import { registerMetricsRoute } from './metrics/routes.js';
import { registerPages } from './pages/module.js';
import { createPeople } from './people/module.js';
import { registerRecordingRoutes } from './recording/routes.js';
import { RecordingService } from './recording/service.js';
import { buildCallRecord } from './records/call-record.js';
import { recordsDomain } from './records/module.js';
import { RecordOutbox, RecordWriter } from './records/outbox.js';
import { registerRecordRoutes } from './records/routes.js';
import { registerReportRoutes } from './reports/routes.js';
import { buildStaffing } from './reports/staffing.js';
import { connectRedis, type Redis, redisReady } from './store/redis.js';
import { registerSupervisionRoutes } from './supervision/routes.js';
import { SupervisionService } from './supervision/service.js';

export interface Rexian {
  app: FastifyInstance;
  logger: Logger;
  start(): Promise<string>;
  /** Stops taking events and requests. Live calls stay in Asterisk for the next process. */
  stop(): Promise<void>;
}

export async function createRexian(
  config: Config,
  logger: Logger = pino({ level: config.log.level, base: { service: 'rexian' }, redact: logRedaction }),
): Promise<Rexian> {
  const promptPaths = {
    dir: config.prompts.dir,
    asteriskDir: config.prompts.asteriskDir,
    recordedDir: config.prompts.recordedDir,
  };
  const catalog = loadPromptCatalog(config.prompts.catalog);
  await prepareCatalog(promptPaths, catalog); // synthesize now, not while a citizen waits

  const redis: Redis = connectRedis(config.redis.url, logger);
  const prefix = config.redis.prefix;
  const registry = new FlowRegistry(
    {
      flowsDir: config.flows.dir,
      queuesFile: config.flows.queues,
      promptCatalog: config.prompts.catalog,
      recordedDir: config.prompts.recordedDir,
    },
    logger,
    redisVersionStore(redis, prefix),
  );
  registry.reload();
  if (registry.calendarProblem) throw new Error(`cannot start without a working calendar: ${registry.calendarProblem}`);
  if (config.dialer.enabled && !registry.calendar.scheduleNames.includes(config.dialer.hours)) {
    throw new RexianError(
      'REXIAN_CONFIG_INVALID',
      { key: 'dialer.hours' },
      `dialer.hours names schedule "${config.dialer.hours}", which the calendar does not have (it has: ${registry.calendar.scheduleNames.join(', ')})`,
    );
  }
  registry.watch();

  // Queues and roster: a broken edit is refused at start; while running, the last good
  // version keeps serving (see reloadAcdConfig).
  let queueConfig: QueueConfig = parseQueueConfig(config.flows.queues);
  let fileRoster: Roster = parseRoster(config.acd.agents);
  let apiAgents: AgentDefinition[] = [];
  let roster: Roster = fileRoster;
  let windows: WindowDirectory = parseWindows(config.acd.windows);
  let virtualPool: VirtualPool = parsePool(config.acd.virtualNumbers ?? 'sip-config/virtual-numbers.yaml');
  // Which calls are masked, read from the configuration as it is now (it reloads on SIGHUP).
  const privacy: PrivacyPolicy = {
    isVirtual: (did) => virtualPool.numbers.includes(did),
    queueMasks: (id) => queueConfig.queues.get(id)?.callerNumber === 'masked',
  };

  const ari = new AriClient({ ...config.ari, logger });
  const ami = new AmiClient({ ...config.ami, logger });
  const prompts = new PromptResolver(promptPaths, catalog);
  const callbacks = new CallbackTasks(redis, prefix);
  const router = new Router(redis, prefix);
  const stats = new QueueStats(redis, prefix);
  // Call records: into the Redis outbox when a call ends, into PostgreSQL by the writer.
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 4, connectionTimeoutMillis: 3_000 });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'PostgreSQL connection lost'));
  const outbox = new RecordOutbox(redis, prefix);
  const scope = asteriskScope(config.ari.url);
  const controllerId = `ctl-${randomBytes(5).toString('hex')}`;
  const recordings = new RecordingService(ari, redis, prefix, scope, controllerId, config.recording, logger);
  // What domains publish to the event stream (the catalogue: src/events/catalogue.ts).
  const notifier = new EventNotifier();
  const acd = new AcdService({
    controllerId,
    notifier,
    ari,
    router,
    stats,
    redis,
    prefix,
    callbacks,
    logger,
    waiting: new WaitingList(redis, prefix),
    recordings,
    queues: () => queueConfig,
    roster: () => roster,
    windows: () => windows,
    advertiseUrl:
      config.http.advertiseUrl ??
      `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}`,
    speak: (text) => prompts.resolve({ text }),
  });
  const provisioning = new AgentProvisioning(ari, redis, prefix, config.acd.agentSipSecret, logger);
  const refreshRoster = async (): Promise<void> => {
    apiAgents = await provisioning.agents();
    roster = mergeRoster(fileRoster, apiAgents);
  };
  const desk = new AgentDesk(
    redis,
    prefix,
    router,
    acd,
    () => roster,
    provisioning,
    (id) => fileRoster.agents.has(id),
    refreshRoster,
  );
  // Agents pushed into Asterisk are lost when it restarts: push them on every connect.
  ari.on('connected', () => void provisioning.pushAll());
  const legHandlers: Array<{
    onEvent(call: Call, event: AriEvent): Promise<boolean>;
    onEnd(call: Call): Promise<void>;
  }> = [];
  const bindings = new BindingStore(redis, prefix, () => virtualPool.numbers, {
    get ttlHours() {
      return virtualPool.ttlHours;
    },
    get maxCalls() {
      return virtualPool.maxCallsPerBinding;
    },
  });
  let calls: CallService | undefined;
  const masking: MaskedCalls = new MaskedCalls({
    bindings,
    isVirtual: (did) => virtualPool.numbers.includes(did),
    calls: () => calls!,
    recordings,
    logger,
    toHotline: (call, prompt): Promise<void> => runner.divertToHotline(call, prompt),
  });
  legHandlers.push(masking);
  const runner: IvrRunner = new IvrRunner({
    registry,
    prompts,
    acd,
    callbacks,
    surveys: new SurveyAnswers(redis, prefix),
    outboundFlow: config.dialer.flow,
    masking,
    logger,
    legHandlers,
  });
  // A call's record as it ends, Asterisk's end facts for calls that ended while we were away,
  // the calls the dialplan fallback served, the dead letters.
  const records = recordsDomain({
    redis,
    pool,
    outbox,
    ami,
    logger: logger.child({ domain: 'records' }),
    privacy,
    build: (state, endedAt, reason) => buildCallRecord(state, endedAt, reason, privacy),
    isLive: async (id) => (await calls!.store.load(id)) !== undefined,
    shortAbandonMs: () => (queueConfig.queues.get('general')?.shortAbandonSeconds ?? 5) * 1000,
  });
  calls = new CallService(
    ari,
    new CallStore(redis, prefix, scope),
    runner,
    logger,
    controllerId,
    (state, reason) => records.onEnded(state, reason),
    (channelId) => records.endFacts(channelId),
  );
  const forwarder = new CallForwarder({ calls, router, redis, prefix });
  const writer = new RecordWriter(redis, outbox, pool, logger.child({ domain: 'records' }), {
    consumer: controllerId,
    migrationsDir: join(repoRoot, 'migrations'),
    isAlive: async (id) => (await redis.exists(`${prefix}:controller:${id}`)) === 1,
  });
  acd.bindCalls(calls);
  const supervision = new SupervisionService({ ari, calls, acd, redis, prefix, logger, privacy });
  legHandlers.push(supervision);
  const figures = () => allFigures(acd, stats, desk, () => [...queueConfig.queues.keys()]);

  // Per-request lines are off: routes log what they did, with the call and the caller.
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  registerValidation(app); // before the routes: their schemas compile with it
  await registerApiDocs(app);
  const authn = new Authenticator(config.auth);
  const people = createPeople({
    app,
    redis,
    pool,
    logger,
    config,
    authn,
    migrationsDir: join(repoRoot, 'migrations'),
    isAgent: (id) => roster.agents.has(id),
    agentDevice: (id) => roster.agents.get(id)?.device,
  });
  await registerPages(app, join(repoRoot, 'web/dist'));
  registerFlowRoutes(app, registry, requireRole(authn, 'ops'));
  registerAcdRoutes(app, desk, acd, figures, authn, () => windows, forwarder);
  registerRecordingRoutes(app, recordings, (id) => desk.teamOf(id), authn, forwarder);
  const dialerTasks = new DialerTasks(redis, prefix);
  const dialer = new Dialer({
    ari,
    acd,
    redis,
    virtualNumberOf: async (id) => (await bindings.get(id))?.x,
    prefix,
    tasks: dialerTasks,
    callbacksKey: callbacks.key,
    calendar: () => registry.calendar,
    config: config.dialer,
    outbox,
    logger,
    consumer: controllerId,
  });
  registerDialerRoutes(app, dialerTasks, authn);
  registerMaskingRoutes(app, bindings, authn);
  registerRecordRoutes(app, records.deadLetters, authn);
  registerReportRoutes(app, pool, authn, (queue, date) => buildStaffing(pool, redis, prefix, acd.queue(queue), date));
  registerMetricsRoute(
    app,
    {
      phases: () => calls.list().map((c) => (c.flow.acd as { phase?: string } | undefined)?.phase ?? 'ivr'),
      figures,
      agents: () => desk.list(),
      ariConnected: () => ari.connected,
      amiConnected: () => ami.connected,
      outboxLength: () => redis.xlen(outbox.key),
      deadLetters: () => records.deadLetters.count(),
    },
    authn,
  );
  registerSupervisionRoutes(app, supervision, calls, (id) => desk.teamOf(id), authn, forwarder);
  const events = registerEventStream(app, {
    authn,
    allowedOrigins: config.http.allowedOrigins ?? [],
    teamOf: (id) => desk.teamOf(id),
  });
  notifier.subscribe((event) => events.publish(event));
  let figuresTimer: NodeJS.Timeout | undefined;
  let rosterTimer: NodeJS.Timeout | undefined;
  const reloadAcdConfig = async (): Promise<void> => {
    try {
      const nextQueues = parseQueueConfig(config.flows.queues);
      const nextRoster = parseRoster(config.acd.agents);
      const nextWindows = parseWindows(config.acd.windows);
      const nextPool = parsePool(config.acd.virtualNumbers ?? 'sip-config/virtual-numbers.yaml');
      queueConfig = nextQueues;
      fileRoster = nextRoster;
      windows = nextWindows;
      virtualPool = nextPool;
      await refreshRoster();
      await desk.sync();
      logger.info(
        { queues: queueConfig.queues.size, agents: roster.agents.size },
        'queues, roster and windows reloaded',
      );
    } catch (err) {
      logger.error(
        { err: (err as Error).message },
        'queues, roster or windows edit rejected; the last good version keeps serving',
      );
    }
  };
  registerHealthRoutes(app, {
    checks: () => ({
      // Each detail says the state as it is now, healthy or not (a pager reads it either way).
      ari: {
        ok: calls.ready,
        detail: !ari.connected
          ? `not connected to ${config.ari.url}`
          : calls.ready
            ? `connected to ${config.ari.url}`
            : `connected to ${config.ari.url}, reconciling`,
      },
      ami: {
        ok: ami.connected,
        detail: `${ami.connected ? 'logged in' : 'not connected'} to ${config.ami.host}:${config.ami.port}`,
      },
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
      recordings.start();
      await writer.start();
      await people.start();
      records.start();
      await dialer.start();
      process.on('SIGHUP', () => void reloadAcdConfig());
      // Agents another controller added through the API.
      rosterTimer = setInterval(() => void refreshRoster().catch(() => undefined), 5000);
      figuresTimer = setInterval(() => {
        if (events.clients === 0) return;
        void Promise.all([figures(), desk.list()]).then(
          ([queues, agents]) => {
            const byState: Record<string, number> = {};
            for (const a of agents) byState[a.state] = (byState[a.state] ?? 0) + 1;
            notifier.queueFigures(queues, overallFigures(queues, byState));
          },
          () => undefined,
        );
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
      recordings.stop();
      await writer.stop();
      records.stop();
      dialer.stop();
      await people.stop();
      await app.close();
      await ari.stop();
      calls.stopTimers();
      await calls.drain();
      await ami.stop();
      redis.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
