// The ACD's HTTP routes: agents' state (log in, ready, not ready with a reason, end wrap-up),
// their kept history, and each queue's live figures. Thin: validate, call, shape the reply.
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { AgentDesk } from './agents.js';
import { agentBodySchema, type AgentDefinition } from './roster.js';
import type { QueueFigures, QueueStats } from './figures.js';
import type { AcdService } from './service.js';

const agentParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$' } },
} as const;

export function registerAcdRoutes(app: FastifyInstance, desk: AgentDesk, acd: AcdService, figures: () => Promise<QueueFigures[]>, auth: preHandlerAsyncHookHandler): void {
  app.get('/api/agents', { preHandler: auth }, async () => ({ agents: await desk.list() }));
  app.get<{ Params: { id: string } }>('/api/agents/:id', { preHandler: auth, schema: { params: agentParams } }, async (req) => desk.view(req.params.id));
  app.put<{ Params: { id: string }; Body: AgentDefinition }>('/api/agents/:id', {
    preHandler: auth, schema: { params: agentParams, body: agentBodySchema },
  }, async (req) => desk.upsert(req.params.id, req.body));
  app.delete<{ Params: { id: string } }>('/api/agents/:id', { preHandler: auth, schema: { params: agentParams } }, async (req, reply) => {
    await desk.remove(req.params.id);
    return reply.code(204).send();
  });
  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>('/api/agents/:id/history', {
    preHandler: auth,
    schema: { params: agentParams, querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } } },
  }, async (req) => ({ agent: req.params.id, changes: await desk.history(req.params.id, req.query.limit ?? 100) }));

  app.post<{ Params: { id: string }; Body: { ready?: boolean } | undefined }>('/api/agents/:id/login', {
    preHandler: auth,
    schema: { params: agentParams, body: { type: ['object', 'null'], additionalProperties: false, properties: { ready: { type: 'boolean' } } } },
  }, async (req) => desk.login(req.params.id, req.body?.ready ?? false));
  app.post<{ Params: { id: string } }>('/api/agents/:id/logout', { preHandler: auth, schema: { params: agentParams } }, async (req) => desk.logout(req.params.id));
  app.post<{ Params: { id: string } }>('/api/agents/:id/ready', { preHandler: auth, schema: { params: agentParams } }, async (req) => desk.ready(req.params.id));
  app.post<{ Params: { id: string }; Body: { reason: string } }>('/api/agents/:id/not-ready', {
    preHandler: auth,
    schema: { params: agentParams, body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', pattern: '^[a-z0-9-]+$' } } } },
  }, async (req) => desk.notReady(req.params.id, req.body.reason));
  app.post<{ Params: { id: string } }>('/api/agents/:id/end-wrap-up', { preHandler: auth, schema: { params: agentParams } }, async (req) => desk.endWrapUp(req.params.id));

  app.get('/api/queues', { preHandler: auth }, async () => ({ queues: await figures() }));
  app.get<{ Params: { id: string } }>('/api/queues/:id', {
    preHandler: auth,
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9-]+$' } } } },
  }, async (req) => {
    acd.queue(req.params.id); // 404 with the queue named when unknown
    return (await figures()).find((f) => f.queue === req.params.id);
  });
}

/** Figures of every queue, with agents by state among those who serve it. */
export async function allFigures(acd: AcdService, stats: QueueStats, desk: AgentDesk, queueIds: () => string[]): Promise<QueueFigures[]> {
  const views = await desk.list();
  return Promise.all(queueIds().map(async (id) => {
    const q = acd.queue(id);
    const counts = await desk.countsFor(q.skills, views);
    const loggedIn = Object.entries(counts).filter(([s]) => s !== 'logged-out').reduce((n, [, c]) => n + c, 0);
    return stats.figures(q, counts, loggedIn);
  }));
}
