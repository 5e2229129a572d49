// Live calls and their supervision: list, monitor, whisper, barge, switch, take over, stop.
// Supervisors act on the calls of their own teams' agents; agents may not supervise.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { type Authenticator, forbidden, mayActForAgent, requireRole } from '../api/auth.js';
import type { CallForwarder } from '../api/forward.js';
import type { CallService } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import type { SupervisionMode, SupervisionService } from './service.js';

const security = [{ bearer: [] }];
const callParams = {
  type: 'object',
  required: ['callId'],
  additionalProperties: false,
  properties: { callId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,80}$' } },
} as const;
const mode = { type: 'string', enum: ['monitor', 'whisper', 'barge'] } as const;

export function registerSupervisionRoutes(
  app: FastifyInstance,
  supervision: SupervisionService,
  calls: CallService,
  teamOf: (agentId: string) => string | undefined,
  authn: Authenticator,
  forwarder: CallForwarder,
): void {
  // The token and its role first (onRequest: before the body is read), then, for a call
  // another controller holds, that controller answers (it checks the team the same way).
  const supervisors = {
    onRequest: requireRole(authn, 'supervisor'),
    preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
      if (await forwarder.forCall(req, reply, (req.params as { callId: string }).callId)) return reply;
      return undefined;
    },
  };
  /**
   * The agent on the call, checked against the supervisor's teams before anything about the
   * call's state is said: another team's call is 403 whether or not it is supervised, has an
   * agent yet, or exists at all (a call that ended answers a supervisor the same way; an admin
   * is told 404 or 409).
   */
  const agentOf = (req: FastifyRequest, callId: string): string => {
    const call = calls.get(callId);
    const agentId = call?.flow.acd?.agentId;
    const p = req.principal!;
    if (p.role !== 'admin' && (!agentId || !mayActForAgent(p, agentId, teamOf(agentId)))) {
      throw forbidden(
        `${p.name} (${p.role}) may not supervise call ${callId}: it is not a live call of an agent of their teams`,
        { callId },
      );
    }
    if (!call) throw new RexianError('REXIAN_NOT_FOUND', { callId }, `no live call ${callId} on this controller`);
    if (!agentId) throw new RexianError('REXIAN_AGENT_STATE', { callId }, `call ${callId} has no agent`);
    return agentId;
  };
  /** Routes that take no body say so: a body sent anyway is refused, not ignored. */
  const noBody = { type: ['object', 'null'], additionalProperties: false, properties: {} } as const;

  app.get(
    '/api/calls',
    {
      onRequest: requireRole(authn, 'supervisor', 'ops'),
      schema: {
        tags: ['calls'],
        summary:
          "Live calls on the whole platform, whichever controller holds them (a supervisor sees their teams' agents' calls)",
        security,
      },
    },
    async (req) => ({ calls: await supervision.liveCalls(req.principal!, teamOf) }),
  );

  app.post<{ Params: { callId: string }; Body: { mode: SupervisionMode; phone?: string } }>(
    '/api/calls/:callId/supervise',
    {
      ...supervisors,
      schema: {
        tags: ['supervision'],
        summary:
          "Ring the supervisor's phone (a desk phone, or their own browser seat) and join the call to monitor, whisper or barge",
        security,
        params: callParams,
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: {
            mode,
            phone: {
              type: 'string',
              pattern: '^[0-9A-Za-z_-]{1,32}$',
              description:
                "roster id of the supervisor's desk phone (default: the token's agent, else the supervisor's own browser seat)",
            },
          },
        },
      },
    },
    async (req) => {
      agentOf(req, req.params.callId);
      const phone = req.body.phone ?? req.principal!.agentId;
      // Without a phone a supervisor is rung on their own browser seat (GET /api/session/phone).
      if (!phone && !(req.principal!.role === 'supervisor' && supervision.hasSeats))
        throw new RexianError(
          'REXIAN_BAD_REQUEST',
          { field: 'phone' },
          'no phone: give "phone" or configure the token\'s agent',
        );
      return supervision.start(req.params.callId, req.principal!.name, phone, req.body.mode);
    },
  );
  app.post<{ Params: { callId: string }; Body: { mode: SupervisionMode } }>(
    '/api/calls/:callId/supervise/mode',
    {
      ...supervisors,
      schema: {
        tags: ['supervision'],
        summary: 'Switch between monitor, whisper and barge during the call',
        security,
        params: callParams,
        body: { type: 'object', required: ['mode'], additionalProperties: false, properties: { mode } },
      },
    },
    async (req) => {
      agentOf(req, req.params.callId);
      return supervision.setMode(req.params.callId, req.principal!.name, req.body.mode);
    },
  );
  app.post<{ Params: { callId: string } }>(
    '/api/calls/:callId/take-over',
    {
      ...supervisors,
      schema: {
        tags: ['supervision'],
        summary: 'Take the call: the agent drops, the supervisor stays with the citizen',
        security,
        params: callParams,
        body: noBody,
      },
    },
    async (req) => {
      agentOf(req, req.params.callId);
      return supervision.takeOver(req.params.callId, req.principal!.name);
    },
  );
  app.delete<{ Params: { callId: string } }>(
    '/api/calls/:callId/supervise',
    {
      ...supervisors,
      schema: {
        tags: ['supervision'],
        summary: "Stop supervising (the supervisor's phone hangs up)",
        security,
        params: callParams,
      },
    },
    async (req) => {
      // The team first: whether another team's call is supervised is none of this caller's
      // business. A supervisor leaving their own supervision (after a take-over, say) may.
      const own =
        (calls.get(req.params.callId)?.flow.supervision as { supervisor?: string } | undefined)?.supervisor ===
        req.principal!.name;
      if (!own) agentOf(req, req.params.callId);
      return supervision.stop(req.params.callId, req.principal!.name);
    },
  );
}
