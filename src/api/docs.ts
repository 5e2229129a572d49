// The OpenAPI document (/docs/json) and a browsable page (/docs), generated from the JSON
// Schemas every route declares. Registered before the routes so it sees them all.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'rexian control API',
        description:
          'Contact-centre control for 12345 hotlines: agents, queues, flows. Bearer tokens with roles agent, supervisor, ops, admin. Errors: { "error": { "code", "message", "details" } }.',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
