// HTTP of the alerts: the active and recently cleared alerts, acknowledging one (audited),
// and the recent-window service level the wallboard shows as "last 30 minutes". Supervisors,
// ops and admins only: alerts are about the floor, not for agents.
import type { FastifyInstance } from 'fastify';

import { type Authenticator, mayActForAgent, type Principal, requireRole } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import type { ActiveAlert, ClearedAlert, RecentFigures } from './types.js';

export type { RecentFigures } from './types.js';

const security = [{ bearer: [] }];
/** Routes that take no body say so: a body sent anyway is refused, not ignored. */
const noBody = { type: ['object', 'null'], additionalProperties: false, properties: {} } as const;

export interface AlertRoutesDeps {
  authn: Authenticator;
  active(): Promise<ActiveAlert[]>;
  recent(): Promise<ClearedAlert[]>;
  acknowledge(alertId: string, by: string, role: string): Promise<{ alert: ActiveAlert; already: boolean } | undefined>;
  figures(minutes: number): RecentFigures;
  /** The longest window the figures keep (minutes). */
  maxMinutes: number;
  /** An agent's team, for the alerts about one agent. */
  teamOf: (agentId: string) => string | undefined;
}

/**
 * Whether a principal is told of an alert: one about an agent (not ready too long) only to the
 * supervisors of that agent's team, as the stream does (src/api/events.ts visibleTo); the floor's
 * alerts to every supervisor. Ops and admins see all.
 */
export function mayKnowAlert(
  principal: Principal,
  alert: { subjectAgent?: string },
  teamOf: (agentId: string) => string | undefined,
): boolean {
  if (principal.role !== 'supervisor' || alert.subjectAgent === undefined) return true;
  return mayActForAgent(principal, alert.subjectAgent, teamOf(alert.subjectAgent));
}

export function registerAlertRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const floor = requireRole(deps.authn, 'supervisor', 'ops');
  app.get(
    '/api/alerts',
    {
      onRequest: floor,
      schema: {
        tags: ['alerts'],
        summary: 'The active alerts (oldest first) and the last cleared ones (newest first)',
        security,
      },
    },
    async (req) => {
      const mine = <A extends { subjectAgent?: string }>(alerts: A[]): A[] =>
        alerts.filter((a) => mayKnowAlert(req.principal!, a, deps.teamOf));
      return { active: mine(await deps.active()), recent: mine(await deps.recent()) };
    },
  );
  app.post<{ Params: { id: string } }>(
    '/api/alerts/:id/ack',
    {
      onRequest: floor,
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an active alert: told on the stream (alert.acknowledged), audited with who and when',
        security,
        params: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'string', pattern: '^al-[0-9a-f]{1,32}$' } },
        },
        body: noBody,
      },
    },
    async (req) => {
      const p = req.principal!;
      // Another team's agent's alert reads, to a supervisor, like one that does not exist.
      const known = (await deps.active()).find((a) => a.alertId === req.params.id);
      const done =
        known && !mayKnowAlert(p, known, deps.teamOf)
          ? undefined
          : await deps.acknowledge(req.params.id, p.name, p.role);
      if (!done)
        throw new RexianError(
          'REXIAN_NOT_FOUND',
          { alertId: req.params.id },
          `no active alert ${req.params.id} (it may have cleared)`,
        );
      if (!done.already)
        req.log.info({ alertId: req.params.id, rule: done.alert.rule, by: p.name }, 'alert acknowledged');
      return { alert: done.alert, alreadyAcknowledged: done.already };
    },
  );
  app.get<{ Querystring: { minutes?: number } }>(
    '/api/alerts/figures',
    {
      onRequest: floor,
      schema: {
        tags: ['alerts'],
        summary: 'Service level over the last minutes (default 30) per queue and overall, from the live figures',
        security,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { minutes: { type: 'integer', minimum: 1, maximum: deps.maxMinutes } },
        },
      },
    },
    async (req) => deps.figures(req.query.minutes ?? 30),
  );
}
