// /healthz: the process is up. /readyz: it can take calls (ARI connected and reconciled,
// AMI logged in, Redis ready); 503 names what is missing so a 3 a.m. pager says why.
// Both say the controller's role in its pair (src/ha/ari-lease.ts): `active` drives its
// Asterisk; `standby` serves HTTP and takes over ARI when the active stops renewing its lease.
// A standby cannot take calls: /readyz answers it 503 with status `standby` (its HTTP API is
// served all the same; a load balancer in front of a pair checks /healthz).
import type { FastifyInstance } from 'fastify';

export interface ReadinessProbe {
  /**
   * Each check with a detail that describes its state as it is now, good or bad ("logged in to …",
   * "not connected to …").
   */
  checks(): Record<string, { ok: boolean; detail: string }>;
  /** The role in the pair, and the controller that holds this Asterisk's ARI ('' when none does). */
  role(): { role: string; ariHolder: string };
}

export function registerHealthRoutes(app: FastifyInstance, probe: ReadinessProbe): void {
  app.get(
    '/healthz',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, role: { type: 'string' }, ariHolder: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ status: 'ok', ...probe.role() }),
  );

  app.get('/readyz', async (_request, reply) => {
    const checks = probe.checks();
    const role = probe.role();
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length === 0) return { status: 'ready', ...role, checks };
    reply.code(503);
    return {
      status: role.role === 'standby' ? 'standby' : 'not-ready',
      ...role,
      reason: failing.map(([name, c]) => `${name}: ${c.detail}`).join('; '),
      checks,
    };
  });
}
