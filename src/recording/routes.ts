// Recordings for quality inspection: listed by call, downloaded by name. Inspectors are
// supervisors (their teams' agents' calls), ops and admins; agents do not download calls.
import { Readable } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { type Authenticator, forbidden, mayActForAgent, requireRole } from '../api/auth.js';
import { type CallForwarder, wasForwarded } from '../api/forward.js';
import { RexianError } from '../errors/index.js';
import type { RecordingInfo, RecordingService } from './service.js';

const security = [{ bearer: [] }];

export function registerRecordingRoutes(
  app: FastifyInstance,
  recordings: RecordingService,
  teamOf: (agentId: string) => string | undefined,
  authn: Authenticator,
  forwarder: CallForwarder,
): void {
  const inspectors = requireRole(authn, 'supervisor', 'ops');
  const mayHear = (req: FastifyRequest, r: RecordingInfo): boolean => {
    const p = req.principal!;
    return p.role !== 'supervisor' || mayActForAgent(p, r.agentId, teamOf(r.agentId));
  };

  app.get<{ Params: { callId: string } }>(
    '/api/calls/:callId/recordings',
    {
      onRequest: inspectors,
      schema: {
        tags: ['recordings'],
        summary: 'The recordings of a call (live or ended), oldest first',
        security,
        params: {
          type: 'object',
          required: ['callId'],
          additionalProperties: false,
          properties: { callId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,80}$' } },
        },
      },
    },
    async (req) => {
      // A list shows what the caller may hear: another team's call reads like a call with no
      // recordings, so the answer says nothing about calls that are not the caller's.
      const visible = (await recordings.ofCall(req.params.callId)).filter((r) => mayHear(req, r));
      return {
        callId: req.params.callId,
        recordings: visible.map((r) => ({ ...r, file: `/api/recordings/${r.name}` })),
      };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/recordings/:name',
    {
      onRequest: inspectors,
      schema: {
        tags: ['recordings'],
        summary: 'Download a recording (audio/wav)',
        security,
        params: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,120}$' } },
        },
      },
    },
    async (req, reply) => {
      const info = await recordings.get(req.params.name);
      // The team before existence: to a supervisor, another team's recording and one that does
      // not exist (or was removed) get the same answer.
      if (req.principal!.role === 'supervisor' && (!info || !mayHear(req, info))) {
        throw forbidden(
          `${req.principal!.name} may not hear recording ${req.params.name}: it is not a recording of their teams' agents (or no longer exists)`,
          { recording: req.params.name },
        );
      }
      if (!info)
        throw new RexianError(
          'REXIAN_NOT_FOUND',
          { recording: req.params.name },
          `no recording ${req.params.name} (never made, or removed after the retention period)`,
        );
      // The file is on another city's switch: its controller serves it.
      if (info.scope !== recordings.scope && !wasForwarded(req))
        return forwarder.forwardTo(req, reply, info.controller, `recording ${info.name}`);
      const file = await recordings.file(info.name);
      req.log.info({ recording: info.name, callId: info.callId, by: req.principal!.name }, 'recording downloaded');
      return reply
        .header('content-type', file.headers.get('content-type') ?? 'audio/wav')
        .header('content-disposition', `attachment; filename="${info.name}.wav"`)
        .send(Readable.fromWeb(file.body as import('node:stream/web').ReadableStream));
    },
  );
}
