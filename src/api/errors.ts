// Renders every error as { error: { code, message, details } } with the right status.
import type { FastifyError, FastifyInstance } from 'fastify';
import { RexianError } from '../errors/index.js';

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RexianError, request, reply) => {
    if (err instanceof RexianError) {
      request.log.warn({ code: err.code, details: err.details }, err.message);
      return reply.code(err.statusCode).send(err.toJSON());
    }
    if (err.validation) {
      return reply.code(400).send({ error: { code: 'REXIAN_BAD_REQUEST', message: err.message, details: { validation: err.validation } } });
    }
    request.log.error({ err }, 'unhandled error');
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return reply.code(status).send({ error: { code: 'REXIAN_INTERNAL', message: status === 500 ? 'internal error' : err.message, details: {} } });
  });
}
