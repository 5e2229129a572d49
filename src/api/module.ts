// The API's own surface, across domains: the event stream (/api/events), health (/healthz,
// /readyz), Prometheus metrics, and the status of the live configuration's last reload. Built
// last: it reads what the domains expose, and the pair role from the ARI lease.
import type { AcdDomain } from '../acd/module.js';
import { registerConfigStatusRoute } from '../config/reload-status.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import type { AriLease } from '../ha/ari-lease.js';
import type { MaskingSettings } from '../masking/settings.js';
import { registerMetricsRoute } from '../metrics/routes.js';
import { redisReady } from '../store/redis.js';
import { requireRole } from './auth.js';
import { registerEventStream } from './events.js';
import { registerHealthRoutes } from './health.js';

export interface ApiDomain extends Domain {
  /** The last SIGHUP reload passed (GET /api/config/status). */
  reloaded(): void;
  /** The last SIGHUP reload was refused, with each problem's file:line:col. */
  rejected(err: unknown): void;
}

export function createApi(core: Core, deps: { acd: AcdDomain; masking: MaskingSettings; lease: AriLease }): ApiDomain {
  const { app, authn, config, ari, ami, redis, calls } = core;
  const { lease } = deps;
  const acd = deps.acd;
  const configStatus = registerConfigStatusRoute(app, requireRole(authn, 'ops'), {
    files: {
      queues: config.flows.queues,
      roster: config.acd.agents,
      windows: config.acd.windows,
      virtualNumbers: deps.masking.file,
    },
    loaded: () => ({
      queues: [...acd.settings.queues.queues.keys()],
      roster: [...acd.settings.fileRoster.agents.keys()],
      windows: [...acd.settings.windows.windows.keys()],
      virtualNumbers: deps.masking.pool.numbers,
      apiAgents: acd.settings.apiAgents.length,
    }),
  });
  registerMetricsRoute(
    app,
    {
      phases: () => calls.list().map((c) => c.flow.acd?.phase ?? 'ivr'),
      figures: acd.figures,
      agents: () => acd.desk.list(),
      ariConnected: () => ari.connected,
      amiConnected: () => ami.connected,
      outboxLength: () => redis.xlen(core.outbox.key),
      deadLetters: () => core.records.deadLetters.count(),
      role: () => lease.role,
    },
    authn,
  );
  const events = registerEventStream(app, {
    authn,
    allowedOrigins: config.http.allowedOrigins ?? [],
    teamOf: acd.teamOf,
  });
  core.notifier.subscribe(
    (event) => events.publish(event),
    () => events.clients > 0,
  );
  registerHealthRoutes(app, {
    role: () => ({ role: lease.role, ariHolder: lease.holder }),
    checks: () => ({
      // Each detail says the state as it is now, healthy or not (a pager reads it either way).
      ari:
        lease.role === 'standby'
          ? {
              ok: false, // it cannot take calls until it holds the lease
              detail: `standby: ARI of ${config.ari.url} is held by ${lease.holder || 'nobody yet'}`,
            }
          : {
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
    name: 'api',
    reloaded: () => configStatus.reloaded(),
    rejected: (err) => configStatus.rejected(err),
    stop: () => events.close(),
  };
}
