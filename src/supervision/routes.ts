// Live calls and their supervision: list, monitor, whisper, barge, switch, take over, stop.
// Supervisors act on the calls of their own teams' agents; agents may not supervise.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallForwarder } from '../api/forward.js';
import { forbidden, mayActForAgent, requireRole, type Authenticator } from '../api/auth.js';
import type { CallService } from '../calls/service.js';
import { RexianError } from '../errors/index.js';
import type { SupervisionMode, SupervisionService } from './service.js';

const security = [{ bearer: [] }];
const callParams = { type: 'object', required: ['callId'], additionalProperties: false, properties: { callId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,80}$' } } } as const;
const mode = { type: 'string', enum: ['monitor', 'whisper', 'barge'] } as const;

export function registerSupervisionRoutes(app: FastifyInstance, supervision: SupervisionService, calls: CallService, teamOf: (agentId: string) => string | undefined, authn: Authenticator, forwarder: CallForwarder): void {
  const onlySupervisors = requireRole(authn, 'supervisor');
  // Then, for a call another controller holds, that controller answers.
  const supervisors = [onlySupervisors, async (req: FastifyRequest, reply: FastifyReply) => {
    if (await forwarder.forCall(req, reply, (req.params as { callId: string }).callId)) return reply;
    return undefined;
  }];
  /** The agent on the call, checked against the supervisor's teams. */
  const agentOf = (req: FastifyRequest, callId: string): string => {
    const call = calls.get(callId);
    if (!call) throw new RexianError('REXIAN_NOT_FOUND', `no live call ${callId} on this controller`, { callId }, 404);
    const agentId = (call.flow.acd as { agentId?: string } | undefined)?.agentId;
    if (!agentId) throw new RexianError('REXIAN_AGENT_STATE', `call ${callId} has no agent`, { callId }, 409);
    const p = req.principal!;
    if (!mayActForAgent(p, agentId, teamOf(agentId)) || p.role === 'agent') {
      throw forbidden(`${p.name} (${p.role}) may not supervise agent "${agentId}"'s call`, { callId, agentId });
    }
    return agentId;
  };

  app.get('/api/calls', {
    preHandler: requireRole(authn, 'supervisor', 'ops'),
    schema: { tags: ['calls'], summary: 'Live calls on the whole platform, whichever controller holds them (a supervisor sees their teams\' agents\' calls)', security },
  }, async (req) => {
    const p = req.principal!;
    const list = (await calls.store.allLive()).map((state) => {
      const acdState = state.flow.acd as { queue?: string; phase?: string; agentId?: string } | undefined;
      return {
        callId: state.callId, did: state.did, caller: state.caller, startedAt: state.startedAt,
        queue: acdState?.queue ?? null, phase: acdState?.phase ?? 'ivr', agentId: acdState?.agentId ?? null,
        team: acdState?.agentId ? teamOf(acdState.agentId) ?? null : null,
        supervised: Boolean(state.flow.supervision), controller: state.owner ?? null,
      };
    }).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    return { calls: p.role === 'supervisor' ? list.filter((c) => c.agentId && mayActForAgent(p, c.agentId, c.team ?? undefined)) : list };
  });

  app.post<{ Params: { callId: string }; Body: { mode: SupervisionMode; phone?: string } }>('/api/calls/:callId/supervise', {
    preHandler: supervisors,
    schema: {
      tags: ['supervision'], summary: 'Ring the supervisor\'s phone and join the call to monitor, whisper or barge', security, params: callParams,
      body: { type: 'object', required: ['mode'], additionalProperties: false, properties: { mode, phone: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,32}$', description: 'roster id of the supervisor\'s phone (default: the token\'s agent)' } } },
    },
  }, async (req) => {
    agentOf(req, req.params.callId);
    const phone = req.body.phone ?? req.principal!.agentId;
    if (!phone) throw new RexianError('REXIAN_BAD_REQUEST', 'no phone: give "phone" or configure the token\'s agent', { field: 'phone' }, 400);
    return supervision.start(req.params.callId, req.principal!.name, phone, req.body.mode);
  });
  app.post<{ Params: { callId: string }; Body: { mode: SupervisionMode } }>('/api/calls/:callId/supervise/mode', {
    preHandler: supervisors,
    schema: { tags: ['supervision'], summary: 'Switch between monitor, whisper and barge during the call', security, params: callParams, body: { type: 'object', required: ['mode'], additionalProperties: false, properties: { mode } } },
  }, async (req) => {
    agentOf(req, req.params.callId);
    return supervision.setMode(req.params.callId, req.principal!.name, req.body.mode);
  });
  app.post<{ Params: { callId: string } }>('/api/calls/:callId/take-over', {
    preHandler: supervisors, schema: { tags: ['supervision'], summary: 'Take the call: the agent drops, the supervisor stays with the citizen', security, params: callParams },
  }, async (req) => {
    agentOf(req, req.params.callId);
    return supervision.takeOver(req.params.callId, req.principal!.name);
  });
  app.delete<{ Params: { callId: string } }>('/api/calls/:callId/supervise', {
    preHandler: supervisors, schema: { tags: ['supervision'], summary: 'Stop supervising (the supervisor\'s phone hangs up)', security, params: callParams },
  }, async (req) => supervision.stop(req.params.callId, req.principal!.name));
}
