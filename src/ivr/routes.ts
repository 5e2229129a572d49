// The flow API, for ops (and admins): which version of each flow file serves calls and the
// errors of any edit that was refused (the last good version keeps serving); a flow's picture;
// a simulated call through a flow in service; and "check before saving", which loads, lints
// and simulates a flow's text without it serving or reaching ivr-flows/.
import type { FastifyInstance } from 'fastify';

import type { AuthHook } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import {
  checkBodySchema,
  checkReplySchema,
  flowListSchema,
  simulateBodySchema,
  simulationSchema,
} from './flow-api-schemas.js';
import type { CheckRequest, CheckView, SimulateRequest } from './flow-api-types.js';
import { checkFlowEdit, simulateServing } from './flow-check.js';
import { FLOW_LIMITS } from './flow-limits.js';
import { flowPicture } from './flow-picture.js';
import { flowList } from './flow-status.js';
import type { FlowRegistry } from './registry.js';

// The picture is fetched by the page and put into its DOM; opened on its own it may still not
// run anything, load anything or be framed.
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const flowIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$' } },
} as const;

export function registerFlowRoutes(app: FastifyInstance, registry: FlowRegistry, auth: AuthHook): void {
  app.get(
    '/api/flows',
    {
      onRequest: auth,
      schema: {
        tags: ['flows'],
        summary: 'Flow files: the version serving each, the numbers it answers, and the errors of refused edits',
        security: [{ bearer: [] }],
        response: { 200: flowListSchema },
      },
    },
    async () => flowList(registry),
  );

  app.get<{ Params: { id: string }; Querystring: { version?: string } }>(
    '/api/flows/:id/graph.svg',
    {
      onRequest: auth,
      schema: {
        tags: ['flows'],
        summary: "A flow's picture (Graphviz SVG, sanitized): the version serving, or ?version=",
        security: [{ bearer: [] }],
        params: flowIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { version: { type: 'string', pattern: '^[0-9a-f]{12}$' } },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const wanted = request.query.version;
      const ref = wanted ? await registry.version(id, wanted) : registry.current(id);
      if (!ref)
        throw new RexianError(
          'REXIAN_NOT_FOUND',
          { flowId: id, ...(wanted ? { version: wanted } : {}) },
          wanted ? `flow "${id}" has no version ${wanted}` : `no flow "${id}" is in service`,
        );
      const svg = await flowPicture(ref.flow, ref.version);
      return reply
        .type('image/svg+xml; charset=utf-8')
        .header('content-security-policy', SVG_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-cache')
        .header('etag', `"${ref.version}"`)
        .send(svg);
    },
  );

  app.post<{ Params: { id: string }; Body: SimulateRequest }>(
    '/api/flows/:id/simulate',
    {
      onRequest: auth,
      schema: {
        tags: ['flows'],
        summary: 'A simulated call through a flow in service: the path of node ids and the outcome',
        security: [{ bearer: [] }],
        params: flowIdParams,
        body: simulateBodySchema,
        response: { 200: simulationSchema },
      },
    },
    async (request) => simulateServing(registry, request.params.id, request.body ?? {}),
  );

  app.post<{ Body: CheckRequest }>(
    '/api/flows/check',
    {
      onRequest: auth,
      // Room for a flow at the loader's size limit, JSON-escaped; past that the loader's own
      // REXIAN_FLOW_TOO_LARGE answers, as it would for the file.
      bodyLimit: 2 * FLOW_LIMITS.maxFileBytes + 64 * 1024,
      schema: {
        tags: ['flows'],
        summary: "Checks a flow's YAML before it is saved: lint result, picture and a simulated path; nothing serves",
        security: [{ bearer: [] }],
        body: checkBodySchema,
        response: { 200: checkReplySchema },
      },
    },
    async (request): Promise<CheckView> => {
      const { loaded, ...result } = await checkFlowEdit(registry, request.body);
      // A picture that cannot be drawn (no dot) is no reason to withhold the lint result.
      const svg = loaded ? await flowPicture(loaded.flow, loaded.version).catch(() => null) : null;
      request.log.info(
        {
          file: result.file,
          flowId: result.flowId,
          version: result.version,
          ok: result.ok,
          by: request.principal?.name,
        },
        'flow checked',
      );
      return { ...result, svg };
    },
  );
}
