// The ACD's HTTP routes: agents' state (log in, ready, not ready with a reason, end wrap-up),
// their current call and kept history, the not-ready reasons, seats added through the API,
// and each queue's live figures. Thin: check who may do it, call the desk, shape the reply.
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { type Authenticator, forbidden, mayActForAgent, type Principal, requireRole } from '../api/auth.js';
import { type CallForwarder, wasForwarded } from '../api/forward.js';
import type { AgentCallView } from '../events/catalogue.js';
import { AgentCallViews } from './agent-call-view.js';
import type { AgentDesk } from './agents.js';
import type { TransferTarget } from './call-actions.js';
import type { QueueFigures, QueueStats } from './figures.js';
import { agentBodySchema, type AgentDefinition } from './roster.js';
import type { AcdService } from './service.js';
import type { WindowDirectory } from './windows.js';

const agentParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$', description: 'agent id (roster key)' } },
} as const;
const security = [{ bearer: [] }];
/** What an action that takes no body accepts: nothing, or {} (a body sent anyway is refused, not ignored). */
const noBody = { type: ['object', 'null'], additionalProperties: false, properties: {} } as const;

/** Where a transfer or consultation goes: exactly one of queue (transfer only), agent, number, window. */
function targetSchema(withQueue: boolean): object {
  return {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    properties: {
      ...(withQueue ? { queue: { type: 'string', pattern: '^[a-z0-9-]+$', description: 'queue id' } } : {}),
      agent: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$', description: 'agent id (must be ready)' },
      number: {
        type: 'string',
        maxLength: 32,
        description: 'a number on the public trunk (checked by the dial-string rules)',
      },
      window: {
        type: 'string',
        pattern: '^[a-z0-9-]{1,40}$',
        description: 'service-centre window id (GET /api/windows)',
      },
    },
  };
}

export function registerAcdRoutes(
  app: FastifyInstance,
  desk: AgentDesk,
  acd: AcdService,
  figures: () => Promise<QueueFigures[]>,
  authn: Authenticator,
  windows: () => WindowDirectory,
  forwarder: CallForwarder,
): void {
  const anyone = requireRole(authn, 'agent', 'supervisor', 'ops');
  const staff = requireRole(authn, 'supervisor', 'ops');
  const ops = requireRole(authn, 'ops');
  const principal = (req: FastifyRequest): Principal => req.principal!;
  /** Agents act for themselves, supervisors for their teams, ops and admins for all (reads). */
  const checkAgent = (req: FastifyRequest, agentId: string, opsMay: boolean): void => {
    const p = principal(req);
    if (opsMay && p.role === 'ops') return;
    if (!mayActForAgent(p, agentId, desk.teamOf(agentId))) {
      throw forbidden(`${p.name} (${p.role}) may not act for agent "${agentId}"`, { agentId, role: p.role });
    }
  };
  const act = (summary: string, path: string, run: (id: string, body: unknown) => Promise<unknown>, body?: object) =>
    app.post<{ Params: { id: string }; Body: unknown }>(
      path,
      {
        onRequest: requireRole(authn, 'agent', 'supervisor'),
        schema: { tags: ['agents'], summary, security, params: agentParams, body: body ?? noBody },
      },
      async (req, reply) => {
        checkAgent(req, req.params.id, false);
        // An action on the agent's call goes to the controller that holds the call.
        if (path.includes('/call/') && (await forwarder.forAgent(req, reply, req.params.id))) return reply;
        return run(req.params.id, req.body);
      },
    );

  app.get(
    '/api/agents',
    {
      onRequest: anyone,
      schema: { tags: ['agents'], summary: 'Agents and their states (those the caller may see)', security },
    },
    async (req) => {
      const p = principal(req);
      const all = await desk.list();
      return { agents: p.role === 'ops' ? all : all.filter((a) => mayActForAgent(p, a.id, a.team)) };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/agents/:id',
    {
      onRequest: anyone,
      schema: { tags: ['agents'], summary: 'One agent and its state', security, params: agentParams },
    },
    async (req) => {
      checkAgent(req, req.params.id, true);
      return desk.view(req.params.id);
    },
  );
  const callViews = new AgentCallViews(acd);
  app.get<{ Params: { id: string } }>(
    '/api/agents/:id/call',
    {
      onRequest: anyone,
      schema: {
        tags: ['agents'],
        summary: "The agent's current call (ringing or talking), or null: the desk's resync after a reconnect",
        security,
        params: agentParams,
      },
    },
    async (req, reply): Promise<{ call: AgentCallView | null } | typeof reply> => {
      checkAgent(req, req.params.id, true);
      const agent = await desk.view(req.params.id);
      if ((agent.state !== 'reserved' && agent.state !== 'on-call') || !agent.callId) return { call: null };
      const onCall = {
        agentId: agent.id,
        state: agent.state,
        callId: agent.callId,
        ...(agent.since ? { since: Date.parse(agent.since) } : {}),
      };
      const here = callViews.here(onCall);
      if (here) return { call: here.view };
      // Only the controller that holds the call knows its live state: ask it.
      const elsewhere = wasForwarded(req) ? undefined : await callViews.heldBy(onCall);
      if (elsewhere) {
        await forwarder.forwardTo(req, reply, elsewhere.controller, `call ${elsewhere.callId}`);
        return reply;
      }
      return { call: null };
    },
  );
  app.get(
    '/api/not-ready-reasons',
    {
      onRequest: anyone,
      schema: {
        tags: ['agents'],
        summary: "The roster's not-ready reasons (code and the label people see), in the roster's order",
        security,
      },
    },
    async () => ({ reasons: desk.notReadyReasons() }),
  );
  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/api/agents/:id/history',
    {
      onRequest: anyone,
      schema: {
        tags: ['agents'],
        summary: "The agent's state changes, newest first",
        security,
        params: agentParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
      },
    },
    async (req) => {
      checkAgent(req, req.params.id, true);
      return { agent: req.params.id, changes: await desk.history(req.params.id, req.query.limit ?? 100) };
    },
  );

  app.put<{ Params: { id: string }; Body: AgentDefinition }>(
    '/api/agents/:id',
    {
      onRequest: ops,
      schema: {
        tags: ['agents'],
        summary: 'Add or change a seat (not one of the roster file); its SIP endpoint is live at once',
        security,
        params: agentParams,
        body: agentBodySchema,
      },
    },
    async (req) => desk.upsert(req.params.id, req.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/agents/:id',
    {
      onRequest: ops,
      schema: { tags: ['agents'], summary: 'Remove a seat added through the API', security, params: agentParams },
    },
    async (req, reply) => {
      await desk.remove(req.params.id);
      return reply.code(204).send();
    },
  );

  act(
    'Log in (not ready, or ready with {"ready":true})',
    '/api/agents/:id/login',
    (id, body) => desk.login(id, (body as { ready?: boolean } | undefined)?.ready ?? false),
    { type: ['object', 'null'], additionalProperties: false, properties: { ready: { type: 'boolean' } } },
  );
  act('Log out', '/api/agents/:id/logout', (id) => desk.logout(id));
  act('Ready for calls', '/api/agents/:id/ready', (id) => desk.ready(id));
  act(
    'Not ready, with a reason code (during a call: when it ends)',
    '/api/agents/:id/not-ready',
    (id, body) => desk.notReady(id, (body as { reason: string }).reason),
    {
      type: 'object',
      required: ['reason'],
      additionalProperties: false,
      properties: { reason: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    },
  );
  act('End wrap-up early', '/api/agents/:id/end-wrap-up', (id) => desk.endWrapUp(id));
  const calls = acd.actions;
  act('Put the citizen on hold (they hear music, the agent silence)', '/api/agents/:id/call/hold', (id) =>
    calls.hold(id),
  );
  act('Take the citizen back from hold', '/api/agents/:id/call/resume', (id) => calls.resume(id));
  act('Mute the agent (the citizen no longer hears them)', '/api/agents/:id/call/mute', (id) => calls.mute(id, true));
  act('Unmute the agent', '/api/agents/:id/call/unmute', (id) => calls.mute(id, false));
  act('End the call (the citizen goes on to the survey)', '/api/agents/:id/call/hangup', (id) => calls.hangup(id));
  act(
    "Pause the call's recording (while the citizen gives personal data)",
    '/api/agents/:id/call/recording/pause',
    (id) => calls.pauseRecording(id, true),
  );
  act("Resume the call's recording", '/api/agents/:id/call/recording/resume', (id) => calls.pauseRecording(id, false));
  act(
    'Hand the citizen to 110, 119, 120 or 122 through the emergency trunk (recorded; the agent may stay or leave)',
    '/api/agents/:id/call/emergency',
    (id, body) => calls.emergency(id, (body as { number: string }).number),
    {
      type: 'object',
      required: ['number'],
      additionalProperties: false,
      properties: { number: { type: 'string', maxLength: 32, description: '110, 119, 120 or 122' } },
    },
  );
  act(
    'Blind transfer to a queue, an agent, a number or a service-centre window (the agent leaves at once)',
    '/api/agents/:id/call/transfer',
    (id, body) => calls.transfer(id, body as TransferTarget),
    targetSchema(true),
  );
  act(
    'Consult an agent, a number or a window while the citizen hears music',
    '/api/agents/:id/call/consult',
    (id, body) => calls.consult(id, body as Exclude<TransferTarget, { queue: string }>),
    targetSchema(false),
  );
  act(
    'Complete the transfer: the agent leaves, the citizen talks to the consulted party',
    '/api/agents/:id/call/consult/complete',
    (id) => calls.completeTransfer(id),
  );
  act(
    'Join all three: citizen, agent and the consulted party (the agent may then hang up: a warm hand-off)',
    '/api/agents/:id/call/consult/conference',
    (id) => calls.conference(id),
  );
  act('Cancel the consultation: the citizen is back with the agent', '/api/agents/:id/call/consult/cancel', (id) =>
    calls.cancelConsult(id),
  );

  app.get(
    '/api/windows',
    {
      onRequest: anyone,
      schema: {
        tags: ['agents'],
        summary: 'The directory of service-centre windows an agent can bring into a call',
        security,
      },
    },
    async () => ({ windows: [...windows().windows.values()] }),
  );

  app.get(
    '/api/queues',
    {
      onRequest: staff,
      schema: { tags: ['queues'], summary: 'Live figures of every queue (today)', security },
    },
    async () => ({ queues: await figures() }),
  );
  app.get<{ Params: { id: string } }>(
    '/api/queues/:id',
    {
      onRequest: staff,
      schema: {
        tags: ['queues'],
        summary: 'Live figures of one queue (today)',
        security,
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9-]+$' } } },
      },
    },
    async (req) => {
      acd.queue(req.params.id); // 404 with the queue named when unknown
      return (await figures()).find((f) => f.queue === req.params.id);
    },
  );
}

/** Figures of every queue, with agents by state among those who serve it. */
export async function allFigures(
  acd: AcdService,
  stats: QueueStats,
  desk: AgentDesk,
  queueIds: () => string[],
): Promise<QueueFigures[]> {
  const views = await desk.list();
  return Promise.all(
    queueIds().map(async (id) => {
      const q = acd.queue(id);
      const counts = await desk.countsFor(q.skills, views);
      const loggedIn = Object.entries(counts)
        .filter(([s]) => s !== 'logged-out')
        .reduce((n, [, c]) => n + c, 0);
      return stats.figures(q, counts, loggedIn);
    }),
  );
}
