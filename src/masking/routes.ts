// The binding API a ticket system calls: bind a department's phone and a citizen to a
// virtual number, look a binding up, extend it, unbind it, list a case's bindings. The
// replies name both parties' numbers masked: whoever reads them learns X, not B.
import type { FastifyInstance } from 'fastify';

import { maskNumber } from '../acd/screen-pop.js';
import { type Authenticator, requireRole } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import type { Binding, BindingStore, BindRequest } from './bindings.js';

const security = [{ bearer: [] }];
const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^bd-[0-9a-f]{12}$' } },
} as const;
const ttlHours = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 8760,
  description: 'hours the binding lives (default from the pool file, 72)',
} as const;

/** What the API shows of a binding: the hidden numbers masked. */
export function bindingView(b: Binding): Record<string, unknown> {
  return { ...b, a: maskNumber(b.a), b: maskNumber(b.b) };
}

export function registerMaskingRoutes(app: FastifyInstance, store: BindingStore, authn: Authenticator): void {
  const ops = requireRole(authn, 'ops');
  app.post<{ Body: BindRequest }>(
    '/api/bindings',
    {
      onRequest: ops,
      schema: {
        tags: ['masking'],
        summary: "Bind A (a department's phone) and B (the citizen) to a virtual number X",
        security,
        body: {
          type: 'object',
          required: ['a', 'b'],
          additionalProperties: false,
          properties: {
            a: { type: 'string', maxLength: 32 },
            b: { type: 'string', maxLength: 32 },
            x: { type: 'string', maxLength: 20, description: 'a particular pool number (default: any free one)' },
            ttlHours,
            record: { type: 'boolean' },
            caseId: { type: 'string', maxLength: 64 },
            maxCalls: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
      },
    },
    async (req, reply) => reply.code(201).send(bindingView(await store.bind(req.body, req.principal!.name))),
  );
  app.get<{ Params: { id: string } }>(
    '/api/bindings/:id',
    {
      onRequest: ops,
      schema: { tags: ['masking'], summary: 'One live binding', security, params: idParams },
    },
    async (req) => {
      const b = await store.get(req.params.id);
      if (!b)
        throw new RexianError(
          'REXIAN_NOT_FOUND',
          { binding: req.params.id },
          `no live binding ${req.params.id} (never made, unbound, or expired)`,
        );
      return bindingView(b);
    },
  );
  app.post<{ Params: { id: string }; Body: { ttlHours: number } }>(
    '/api/bindings/:id/extend',
    {
      onRequest: ops,
      schema: {
        tags: ['masking'],
        summary: 'Extend a binding: it lives ttlHours from now',
        security,
        params: idParams,
        body: { type: 'object', required: ['ttlHours'], additionalProperties: false, properties: { ttlHours } },
      },
    },
    async (req) => bindingView(await store.extend(req.params.id, req.body.ttlHours, req.principal!.name)),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/bindings/:id',
    {
      onRequest: ops,
      schema: {
        tags: ['masking'],
        summary: 'Unbind: X stops reaching either party at once',
        security,
        params: idParams,
      },
    },
    async (req, reply) => {
      await store.unbind(req.params.id, req.principal!.name);
      return reply.code(204).send();
    },
  );
  app.get<{ Querystring: { caseId: string } }>(
    '/api/bindings',
    {
      onRequest: ops,
      schema: {
        tags: ['masking'],
        summary: 'The live bindings of a case',
        security,
        querystring: {
          type: 'object',
          required: ['caseId'],
          additionalProperties: false,
          properties: { caseId: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (req) => ({ caseId: req.query.caseId, bindings: (await store.byCase(req.query.caseId)).map(bindingView) }),
  );
}
