// GET /api/flows: which version of each flow file serves calls, and the errors of any edit
// that was rejected (the last good version keeps serving).
import type { FastifyInstance } from 'fastify';

import type { AuthHook } from '../api/auth.js';
import type { FlowRegistry } from './registry.js';

export function registerFlowRoutes(app: FastifyInstance, registry: FlowRegistry, auth: AuthHook): void {
  app.get(
    '/api/flows',
    {
      onRequest: auth,
      schema: {
        tags: ['flows'],
        summary: 'Flow files: the version serving each, and the errors of rejected edits',
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'object',
            properties: {
              calendarError: { type: ['string', 'null'] },
              flows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    file: { type: 'string' },
                    flowId: { type: ['string', 'null'] },
                    version: { type: ['string', 'null'] },
                    loadedAt: { type: ['string', 'null'] },
                    errors: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({
      calendarError: registry.calendarProblem ?? null,
      flows: registry
        .status()
        .map((s) => ({ ...s, flowId: s.flowId ?? null, version: s.version ?? null, loadedAt: s.loadedAt ?? null })),
    }),
  );
}
