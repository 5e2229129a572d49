// Prometheus text at /metrics: live calls by phase, queue waits and service level, agents by
// state, the ARI and AMI connections, the role in the controller pair, and the Node.js runtime
// (event-loop lag among them, from prom-client's default collectors). Values are read at
// scrape time, not kept twice.
// Scrapers authenticate like any client (a bearer token of role ops).
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import type { AgentView } from '../acd/agents.js';
import type { QueueFigures } from '../acd/figures.js';
import { type Authenticator, requireRole } from '../api/auth.js';

export interface MetricsSources {
  phases: () => string[];
  figures: () => Promise<QueueFigures[]>;
  agents: () => Promise<AgentView[]>;
  ariConnected: () => boolean;
  amiConnected: () => boolean;
  outboxLength: () => Promise<number>;
  /** Records PostgreSQL refused, set aside for ops to replay. */
  deadLetters: () => Promise<number>;
  /** This controller's role in its pair (src/ha/ari-lease.ts): active, standby, fenced. */
  role: () => string;
}

export function registerMetricsRoute(app: FastifyInstance, sources: MetricsSources, authn: Authenticator): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rexian_' });
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    collect: (g: Gauge) => Promise<void> | void,
  ): void => {
    registry.registerMetric(
      new Gauge({
        name,
        help,
        labelNames,
        async collect() {
          this.reset();
          await collect(this);
        },
      }),
    );
  };
  gauge(
    'rexian_calls',
    'Live calls on this controller by phase (ivr, waiting, offering, connected, …)',
    ['phase'],
    (g) => {
      const counts = new Map<string, number>();
      for (const p of sources.phases()) counts.set(p, (counts.get(p) ?? 0) + 1);
      for (const [phase, n] of counts) g.set({ phase }, n);
    },
  );
  let figures: Promise<QueueFigures[]> | undefined;
  const queueFigures = (): Promise<QueueFigures[]> =>
    (figures ??= sources.figures().finally(() => {
      setTimeout(() => {
        figures = undefined;
      }, 200);
    }));
  gauge('rexian_queue_waiting', 'Callers waiting now', ['queue'], async (g) => {
    for (const f of await queueFigures()) g.set({ queue: f.queue }, f.waitingNow);
  });
  gauge('rexian_queue_longest_wait_seconds', 'Longest wait of a caller waiting now', ['queue'], async (g) => {
    for (const f of await queueFigures()) g.set({ queue: f.queue }, f.longestWaitNowSeconds);
  });
  gauge(
    'rexian_queue_service_level_ratio',
    'Answered within the target today ÷ (answered + abandoned − short abandons)',
    ['queue', 'seconds'],
    async (g) => {
      for (const f of await queueFigures())
        for (const sl of f.serviceLevel)
          if (sl.percent !== null) g.set({ queue: f.queue, seconds: String(sl.seconds) }, sl.percent / 100);
    },
  );
  gauge('rexian_queue_calls_today', 'Calls today by outcome', ['queue', 'outcome'], async (g) => {
    for (const f of await queueFigures()) {
      for (const outcome of ['offered', 'answered', 'abandoned', 'shortAbandoned', 'leftQueue'] as const)
        g.set({ queue: f.queue, outcome }, f[outcome]);
    }
  });
  gauge('rexian_agents', 'Agents by state', ['state'], async (g) => {
    const counts = new Map<string, number>();
    for (const a of await sources.agents()) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
    for (const [state, n] of counts) g.set({ state }, n);
  });
  gauge('rexian_asterisk_connected', 'Connection to Asterisk (1 up, 0 down)', ['interface'], (g) => {
    g.set({ interface: 'ari' }, sources.ariConnected() ? 1 : 0);
    g.set({ interface: 'ami' }, sources.amiConnected() ? 1 : 0);
  });
  gauge('rexian_controller_role', 'Role in the controller pair (1 for the role it has now)', ['role'], (g) => {
    for (const role of ['active', 'standby', 'fenced']) g.set({ role }, sources.role() === role ? 1 : 0);
  });
  gauge('rexian_records_outbox', 'Call records waiting to be written to PostgreSQL', [], async (g) => {
    g.set(await sources.outboxLength());
  });
  gauge(
    'rexian_records_dead_letters',
    'Call records PostgreSQL refused, waiting for ops to replay them',
    [],
    async (g) => {
      g.set(await sources.deadLetters());
    },
  );

  app.get(
    '/metrics',
    {
      onRequest: requireRole(authn, 'ops'),
      schema: { tags: ['metrics'], summary: 'Prometheus metrics (text exposition format)', security: [{ bearer: [] }] },
    },
    async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}
