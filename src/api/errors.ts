// Renders every error as { error: { code, message, details } } with the right status, and
// logs it at the level it deserves. A client's mistake (a body too large, a content type we
// do not take, JSON that does not parse, a schema it does not meet, a route that does not
// exist) is the client's: its own code and status, one line at info (debug when nobody
// authenticated, so an anonymous client cannot fill the log), no stack. Only a fault of ours
// is REXIAN_INTERNAL, logged at error with its stack.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { RexianError, type ErrorCode } from '../errors/index.js';
import { describeValidation } from './validation.js';

/** fastify's own client errors (lib/errors.js), and the code we answer them with. */
const CLIENT_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'REXIAN_BODY_TOO_LARGE', message: 'the request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'REXIAN_UNSUPPORTED_MEDIA_TYPE', message: 'this API takes application/json bodies only' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'REXIAN_BAD_JSON', message: 'the body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'REXIAN_BAD_JSON', message: 'the body is empty but content-type says application/json' },
};

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

/** One line for a client's mistake: info with who made it, debug when nobody authenticated. */
function logClientError(request: FastifyRequest, status: number, code: string, message: string): void {
  const who = request.principal?.name;
  const fields = { code, status, method: request.method, path: request.url.split('?')[0], ...(who ? { by: who } : {}) };
  if (who) request.log.info(fields, message);
  else request.log.debug(fields, message);
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RexianError, request, reply) => {
    if (err instanceof RexianError) {
      if (err.statusCode >= 500) request.log.warn({ code: err.code, details: err.details }, err.message);
      else logClientError(request, err.statusCode, err.code, err.message);
      return reply.code(err.statusCode).send(err.toJSON());
    }
    if (err.validation) {
      const part = err.validationContext ?? 'body';
      const { message, field } = describeValidation(err.validation as ErrorObject[], part);
      logClientError(request, 400, 'REXIAN_BAD_REQUEST', message);
      return reply.code(400).send({ error: { code: 'REXIAN_BAD_REQUEST', message, details: { field, validation: err.validation } } } satisfies ErrorBody);
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
      const code: ErrorCode = known?.code ?? 'REXIAN_BAD_REQUEST';
      const message = known?.message ?? err.message;
      logClientError(request, status, code, message);
      return reply.code(status).send({ error: { code, message, details: err.code ? { fastify: err.code } : {} } } satisfies ErrorBody);
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(status >= 500 && status < 600 ? status : 500).send({ error: { code: 'REXIAN_INTERNAL', message: 'internal error', details: {} } } satisfies ErrorBody);
  });

  // fastify's default 404 has its own shape; ours is the one error shape, logged like any
  // client mistake (a scanner probing paths is not an incident).
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    logClientError(request, 404, 'REXIAN_NO_SUCH_ROUTE', message);
    return reply.code(404).send({ error: { code: 'REXIAN_NO_SUCH_ROUTE', message, details: { method: request.method } } } satisfies ErrorBody);
  });
}
