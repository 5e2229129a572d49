// Builds the core, then the domains in a fixed list, and runs their lifecycles; nothing else
// wires anything. The list's order is the order domains are built (each gets what earlier ones
// expose), started, activated while this controller holds its ARI lease, and stopped.
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';

import { createAcd } from './acd/module.js';
import { AcdSettings } from './acd/settings.js';
import { createAlerts } from './alerts/module.js';
import { createApi } from './api/module.js';
import { repoRoot } from './asterisk/instance.js';
import { CallEventPath } from './calls/event-path.js';
import { logRedaction, type PrivacyPolicy } from './calls/privacy.js';
import type { Config } from './config/index.js';
import { createCore, recordsLifecycle } from './core.js';
import { createDeskPhone } from './desk-phone/module.js';
import { createDialer } from './dialer/module.js';
import type { Domain } from './domain.js';
import { createEvents } from './events/module.js';
import { AriLease, ariLeaseKey, type AriRole, leaseTimings } from './ha/ari-lease.js';
import { createIvr } from './ivr/module.js';
import { createMasking } from './masking/module.js';
import { MaskingSettings } from './masking/settings.js';
import { registerPages } from './pages/module.js';
import { createPeople } from './people/module.js';
import { createRecording } from './recording/module.js';
import { createReports } from './reports/module.js';
import { createSupervision } from './supervision/module.js';

export interface Rexian {
  app: FastifyInstance;
  logger: Logger;
  start(): Promise<string>;
  /** Stops taking events and requests. Live calls stay in Asterisk for the next process. */
  stop(): Promise<void>;
  /** Active (drives its Asterisk) or standby, in the pair of controllers of one node (src/ha/). */
  readonly role: AriRole;
  /**
   * Resolves when this process lost its ARI lease: it has stopped ARI, and must exit before it
   * does anything else to Asterisk (main.ts exits with status 3).
   */
  readonly fenced: Promise<string>;
}

export async function createRexian(
  config: Config,
  logger: Logger = pino({ level: config.log.level, base: { service: 'rexian' }, redact: logRedaction }),
): Promise<Rexian> {
  // The live settings first: a broken queues, roster, windows or pool file refuses the start
  // before anything connects. While running, a broken edit keeps the last good (reload below).
  const acdSettings = AcdSettings.fromConfig(config);
  const maskingSettings = MaskingSettings.fromConfig(config);
  const privacy: PrivacyPolicy = {
    isVirtual: (did) => maskingSettings.isVirtual(did),
    queueMasks: (id) => acdSettings.queues.queues.get(id)?.callerNumber === 'masked',
  };
  const core = await createCore(config, logger, {
    privacy,
    shortAbandonMs: () => (acdSettings.queues.queues.get('general')?.shortAbandonSeconds ?? 5) * 1000,
  });
  const { app, ari, ami, calls, redis } = core;

  // Controllers in pairs (src/ha/ari-lease.ts): of the controllers of one Asterisk, only the
  // holder of its lease drives it (each domain's activate); the other serves HTTP (forwarding
  // actions on calls to the holder) and stands by.
  let fence: (reason: string) => void = () => undefined;
  const fenced = new Promise<string>((resolve) => (fence = resolve));
  const leaseRedis = redis.duplicate();
  leaseRedis.on('error', (err: Error) => logger.debug({ err: err.message }, 'Redis error (ARI lease)'));
  const lease = new AriLease({
    ...leaseTimings(config.ha),
    redis: leaseRedis,
    key: ariLeaseKey(core.prefix, core.scope, config.ari.app),
    holder: core.controllerId,
    logger,
    async onAcquired() {
      for (const domain of domains) await domain.activate?.();
      ari.start(); // last: its connect reconciles, taking over the calls the last holder left
    },
    onLost(reason) {
      // At once, before anyone else may hold the lease; main.ts exits.
      void ari.stop();
      for (const domain of domains) domain.deactivate?.();
      fence(reason);
    },
  });

  ari.guardBy(() => lease.mayDrive);

  const recording = createRecording(core, { acdSettings });
  const acd = createAcd(core, { settings: acdSettings, recordings: recording.service });
  const masking = createMasking(core, { settings: maskingSettings, recordings: recording.service });
  const ivr = createIvr(core, { acd: acd.service, callbacks: acd.callbacks, masking: masking.calls });
  const supervision = createSupervision(core, { acd });
  const api = createApi(core, { acd, masking: maskingSettings, lease });
  const people = createPeople({
    app,
    redis,
    pool: core.pool,
    logger,
    config,
    authn: core.authn,
    migrationsDir: core.migrationsDir,
    isAgent: (id) => acdSettings.roster.agents.has(id),
    agentDevice: (id) => acdSettings.roster.agents.get(id)?.device,
    agentAutoAnswer: (id) => acdSettings.roster.agents.get(id)?.autoAnswer ?? false,
    supervisorSeat: (name) => supervision.seats.seat(name),
  });
  await registerPages(app, join(repoRoot, 'web/dist'));
  // Service-level alerts run with the app (its onReady to its onClose), on the live figures.
  const alerts = createAlerts({
    app,
    authn: core.authn,
    redis,
    prefix: core.prefix,
    controllerId: core.controllerId,
    notifier: core.notifier,
    logger,
    config: config.alerts,
    queues: () => acdSettings.queues.queues,
    teamOf: acd.teamOf, // an alert about an agent goes to their team's supervisors
    live: {
      figures: acd.figures,
      agents: () => acd.desk.list(),
      // A standby does not hold ARI by design: only the active is alerted on.
      ariConnected: () => lease.role !== 'active' || ari.connected,
      amiConnected: () => ami.connected,
      outboxLength: () => redis.xlen(core.outbox.key),
    },
  });

  const domains: Domain[] = [
    createEvents(core),
    recording,
    acd,
    masking,
    ivr,
    supervision,
    createDialer(core, { acd, registry: ivr.registry, bindings: masking.bindings }),
    createReports(core, { acd }),
    createDeskPhone(core, { acd }),
    { name: 'people', ...people },
    alerts,
    recordsLifecycle(core),
    api,
  ];

  // A call's ARI events go through the domains in this order (calls/event-path.ts), and the
  // ACD and masking hand calls back to their flow through the IVR runner's hand-offs.
  calls.route(
    ivr.runner,
    new CallEventPath(
      {
        masking: masking.calls,
        supervision: supervision.service,
        divert: ivr.runner.divert,
        acd: acd.service,
        ivr: ivr.runner,
      },
      ivr.runner,
    ),
  );

  /** SIGHUP: every domain's files parsed first; applied only if all did (file:line:col otherwise). */
  const reload = async (): Promise<void> => {
    try {
      const changes = domains.flatMap((d) => (d.prepareReload ? [d.prepareReload()] : []));
      for (const apply of changes) await apply();
      api.reloaded();
    } catch (err) {
      api.rejected(err);
      logger.error(
        { err: (err as Error).message },
        'queues, roster or windows edit rejected; the last good version keeps serving',
      );
    }
  };

  return {
    app,
    logger,
    get role() {
      return lease.role;
    },
    fenced,
    async start() {
      for (const domain of domains) await domain.start?.();
      process.on('SIGHUP', () => void reload());
      ami.start();
      const address = await app.listen({ host: config.http.host, port: config.http.port });
      // A lone controller holds the lease when start returns; the second of a pair stands by.
      await lease.start();
      return address;
    },
    async stop() {
      if (lease.role !== 'active') await lease.stop(); // a standby never takes over while stopping
      for (const domain of domains) await domain.stop?.();
      await app.close();
      await ari.stop();
      calls.stopTimers();
      await calls.drain();
      await lease.stop(); // the holder lets go once it drives nothing: its standby takes over at once
      leaseRedis.disconnect();
      await ami.stop();
      redis.disconnect();
      await core.pool.end().catch(() => undefined);
    },
  };
}
