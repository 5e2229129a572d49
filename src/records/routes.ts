// HTTP for the call records' dead letters (records PostgreSQL refused for their data): ops
// list them with PostgreSQL's error, and replay one as it was or corrected.
import type { FastifyInstance } from 'fastify';

import { type Authenticator, requireRole } from '../api/auth.js';
import type { DeadLetters } from './dead-letters.js';
import type { StoredRecord } from './record-rows.js';

const security = [{ bearer: [] }];
const streamId = {
  type: 'string',
  pattern: '^\\d{1,20}-\\d{1,20}$',
  description: "the dead letter's id (a Redis stream id)",
} as const;

export function registerRecordRoutes(app: FastifyInstance, deadLetters: DeadLetters, authn: Authenticator): void {
  const ops = requireRole(authn, 'ops');

  app.get<{ Querystring: { limit?: number } }>(
    '/api/records/dead-letters',
    {
      onRequest: ops,
      schema: {
        tags: ['records'],
        summary: 'Call records PostgreSQL refused for their data, oldest first, with the error',
        security,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
    },
    async (req) => ({ total: await deadLetters.count(), deadLetters: await deadLetters.list(req.query.limit ?? 100) }),
  );

  app.post<{ Params: { id: string }; Body: { record?: StoredRecord } | undefined }>(
    '/api/records/dead-letters/:id/replay',
    {
      onRequest: ops,
      schema: {
        tags: ['records'],
        security,
        summary:
          'Write a dead letter to PostgreSQL, as it was (its cause was fixed) or replaced by a corrected record; it leaves the dead letters once its row is in',
        params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: streamId } },
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            record: {
              type: 'object',
              required: ['callId'],
              properties: { callId: { type: 'string', minLength: 1, maxLength: 200 } },
              description: 'the corrected record (the whole record, as listed)',
            },
          },
        },
      },
    },
    async (req) => {
      const { written, record } = await deadLetters.replay(req.params.id, req.body?.record);
      req.log.info(
        {
          deadLetter: req.params.id,
          callId: record.callId,
          written,
          corrected: Boolean(req.body?.record),
          by: req.principal?.name,
        },
        'dead call record replayed',
      );
      return { id: req.params.id, callId: record.callId, written };
    },
  );
}
