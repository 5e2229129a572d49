// Recordings for quality inspection: listed by call, searched by agent and date, heard or
// downloaded by name. Inspectors are supervisors (their teams' agents' calls), ops and admins;
// agents do not hear calls. Every listen and every download is audited with who
// (`<prefix>:audit`, action recording-listen or recording-download) before the file is sent.
import { Readable } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { type Authenticator, forbidden, mayActForAgent, requireRole } from '../api/auth.js';
import { type CallForwarder, wasForwarded } from '../api/forward.js';
import { RexianError } from '../errors/index.js';
import type { RecordingInfo, RecordingService, RecordingUse } from './service.js';

const security = [{ bearer: [] }];
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (Asia/Shanghai)' } as const;
const id = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,80}$' } as const;
/** A search covers at most this many days: an inspector looks for a call, not a year's traffic. */
const SEARCH_DAYS = 31;

/** Shanghai midnight of a calendar date (2026-02-30 is refused, not read as March 2nd). */
function dayStart(value: string, field: string): Date {
  const d = new Date(`${value}T00:00:00+08:00`);
  if (Number.isNaN(d.getTime()) || new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10) !== value)
    throw new RexianError('REXIAN_BAD_REQUEST', { field, value }, `${field} "${value}" is not a calendar date`);
  return d;
}

interface SearchQuery {
  callId?: string;
  agentId?: string;
  from?: string;
  to?: string;
  limit: number;
}

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

  app.get<{ Querystring: SearchQuery }>(
    '/api/recordings',
    {
      onRequest: inspectors,
      schema: {
        tags: ['recordings'],
        summary: 'Search recordings by call, or by date (from, to: Shanghai days, up to 31) and agent; newest first',
        security,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            callId: id,
            agentId: id,
            from: date,
            to: date,
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 200 },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const visible = (r: RecordingInfo): boolean => mayHear(req, r) && (!q.agentId || r.agentId === q.agentId);
      const shaped = (list: RecordingInfo[]) => list.map((r) => ({ ...r, file: `/api/recordings/${r.name}` }));
      if (q.callId && !q.from) {
        const list = (await recordings.ofCall(q.callId)).filter(visible).reverse();
        return { recordings: shaped(list.slice(0, q.limit)), truncated: list.length > q.limit };
      }
      if (!q.from)
        throw new RexianError('REXIAN_BAD_REQUEST', { field: 'from' }, 'give a call id, or a date (from) to search');
      const start = dayStart(q.from, 'from');
      const end = new Date(dayStart(q.to ?? q.from, 'to').getTime() + 86_400_000);
      if (end <= start || end.getTime() - start.getTime() > SEARCH_DAYS * 86_400_000)
        throw new RexianError(
          'REXIAN_BAD_REQUEST',
          { field: 'to', value: q.to },
          `"to" must be on or after "from" and at most ${SEARCH_DAYS} days later`,
        );
      const found = await recordings.search({
        from: start,
        to: end,
        ...(q.agentId ? { agentId: q.agentId } : {}),
        visible: (r) => visible(r) && (!q.callId || r.callId === q.callId),
        limit: q.limit,
      });
      return { recordings: shaped(found.recordings), truncated: found.truncated };
    },
  );

  app.get<{ Params: { name: string }; Querystring: { use: RecordingUse } }>(
    '/api/recordings/:name',
    {
      onRequest: inspectors,
      schema: {
        tags: ['recordings'],
        summary: 'Hear (use=listen, inline) or download a recording (audio/wav); audited with who either way',
        security,
        params: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,120}$' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { use: { type: 'string', enum: ['listen', 'download'], default: 'download' } },
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
      // Audited once the file is there and before it is sent: a listen is recorded as it starts.
      const use = req.query.use;
      await recordings.audit(use, info, req.principal!);
      return reply
        .header('content-type', file.headers.get('content-type') ?? 'audio/wav')
        .header('content-disposition', `${use === 'listen' ? 'inline' : 'attachment'}; filename="${info.name}.wav"`)
        .header('cache-control', 'no-store')
        .send(Readable.fromWeb(file.body as import('node:stream/web').ReadableStream));
    },
  );
}
