// GET /api/agents/:id/day and GET /api/agents/:id/queues (./agent-day.ts builds the answers).
// Who may read: the agent themself, their team's supervisors, ops and admins (the same rule as
// the ACD's agent routes, src/acd/routes.ts: mayActForAgent, and ops may read every agent).
// "Today" is the controller's local day, Asia/Shanghai (ivr/calendar.ts localTime).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';

import type { QueueFigures } from '../acd/figures.js';
import { type Authenticator, forbidden, mayActForAgent, requireRole } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import { localTime } from '../ivr/calendar.js';
import { agentDay, agentQueues } from './agent-day.js';

export interface AgentDayDeps {
  pool: pg.Pool;
  authn: Authenticator;
  teamOf: (agentId: string) => string | undefined;
  /** The roster's skills of an agent, undefined when not on the roster. */
  agentSkills: (agentId: string) => Record<string, number> | undefined;
  /** The skills that serve a queue (the queue's own, not overflow's). */
  queueSkills: (queueId: string) => string[];
  /** The ACD's live figures of every queue (allFigures in acd/routes.ts). */
  figures: () => Promise<QueueFigures[]>;
}

const agentParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$', description: 'agent id (roster key)' } },
} as const;
const security = [{ bearer: [] }];

export function registerAgentDayRoutes(app: FastifyInstance, deps: AgentDayDeps): void {
  const readers = requireRole(deps.authn, 'agent', 'supervisor', 'ops');
  /** The agent's skills once the caller may read this agent (ops and admins read all). */
  const allowed = (req: FastifyRequest, agentId: string): Record<string, number> => {
    const p = req.principal!;
    if (p.role !== 'ops' && !mayActForAgent(p, agentId, deps.teamOf(agentId))) {
      throw forbidden(`${p.name} (${p.role}) may not act for agent "${agentId}"`, { agentId, role: p.role });
    }
    const skills = deps.agentSkills(agentId);
    if (!skills) throw new RexianError('REXIAN_UNKNOWN_AGENT', { agentId });
    return skills;
  };
  // Every desk polls its queues every 2 s: one computation of the figures serves them all for a second.
  let cached: { at: number; figures: Promise<QueueFigures[]> } | undefined;
  const figures = (): Promise<QueueFigures[]> => {
    if (!cached || Date.now() - cached.at > 1000) {
      const next = { at: Date.now(), figures: deps.figures() };
      next.figures.catch(() => {
        if (cached === next) cached = undefined;
      });
      cached = next;
    }
    return cached.figures;
  };

  app.get<{ Params: { id: string } }>(
    '/api/agents/:id/day',
    {
      onRequest: readers,
      schema: {
        tags: ['agents'],
        summary: "The agent's day so far (Asia/Shanghai): calls taken, average talk, satisfaction, each call",
        security,
        params: agentParams,
      },
    },
    async (req, reply) => {
      allowed(req, req.params.id);
      const day = await agentDay(deps.pool, req.params.id, localTime(new Date()).date);
      return reply.header('cache-control', 'no-store').send(day);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/agents/:id/queues',
    {
      onRequest: readers,
      schema: {
        tags: ['agents'],
        summary: 'The queues the agent serves (by skill): callers waiting now and the longest wait',
        security,
        params: agentParams,
      },
    },
    async (req, reply) => {
      const skills = allowed(req, req.params.id);
      const queues = agentQueues(skills, await figures(), deps.queueSkills);
      return reply.header('cache-control', 'no-store').send({ agentId: req.params.id, queues });
    },
  );
}
