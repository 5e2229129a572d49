// /healthz: the process is up. /readyz: it can take calls (ARI connected and reconciled,
// AMI logged in, Redis ready); 503 names what is missing so a 3 a.m. pager says why.
import type { FastifyInstance } from 'fastify';

export interface ReadinessProbe {
  /**
   * Each check with a detail that describes its state as it is now, good or bad ("logged in to …",
   * "not connected to …").
   */
  checks(): Record<string, { ok: boolean; detail: string }>;
}

export function registerHealthRoutes(app: FastifyInstance, probe: ReadinessProbe): void {
  app.get(
    '/healthz',
    {
      schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get('/readyz', async (_request, reply) => {
    const checks = probe.checks();
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length === 0) return { status: 'ready', checks };
    reply.code(503);
    return {
      status: 'not-ready',
      reason: failing.map(([name, c]) => `${name}: ${c.detail}`).join('; '),
      checks,
    };
  });
}
