// Renders every error as { error: { code, message, details } } with the status its code has
// in the catalogue (src/errors/index.ts), and logs it at the level it deserves. A client's
// mistake (a body too large, a content type we do not take, JSON that does not parse, a
// schema it does not meet, a route that does not exist) is the client's: its own code, one
// line at info (debug when nobody authenticated, so an anonymous client cannot fill the log),
// no stack. A failure of Asterisk reaches the client as REXIAN_ASTERISK_FAILED (502) or
// REXIAN_ASTERISK_UNAVAILABLE (503), never as Asterisk's own status (wazo's
// handle_ari_exception): the ARI client throws an AriError, which carries those codes and
// keeps Asterisk's answer in details.status. Only a fault of ours is REXIAN_INTERNAL, logged
// at error with its stack.
import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import { describeValidation } from './validation.js';

/** fastify's own client errors (lib/errors.js), and the code we answer them with. */
const CLIENT_ERRORS: Record<string, () => RexianError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new RexianError('REXIAN_BODY_TOO_LARGE', { fastify: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new RexianError('REXIAN_UNSUPPORTED_MEDIA_TYPE', { fastify: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new RexianError('REXIAN_BAD_JSON', { fastify: 'FST_ERR_CTP_INVALID_JSON_BODY' }, 'the body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new RexianError(
      'REXIAN_BAD_JSON',
      { fastify: 'FST_ERR_CTP_EMPTY_JSON_BODY' },
      'the body is empty but content-type says application/json',
    ),
};

/** One line for a client's mistake: info with who made it, debug when nobody authenticated. */
function logClientError(request: FastifyRequest, status: number, code: string, message: string): void {
  const who = request.principal?.name;
  const fields = { code, status, method: request.method, path: request.url.split('?')[0], ...(who ? { by: who } : {}) };
  if (who) request.log.info(fields, message);
  else request.log.debug(fields, message);
}

/** Logs an error of the catalogue at its level and answers it with its code's status. */
function send(request: FastifyRequest, reply: FastifyReply, err: RexianError): FastifyReply {
  const body = err.toJSON();
  if (err.statusCode >= 500) request.log.warn({ code: err.code, details: err.details }, err.message);
  else logClientError(request, err.statusCode, err.code, body.error.message);
  return reply.code(err.statusCode).send(body);
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RexianError, request, reply) => {
    if (err instanceof RexianError) return send(request, reply, err);
    if (err.validation) {
      const part = err.validationContext ?? 'body';
      const { message, field } = describeValidation(err.validation as ErrorObject[], part);
      const invalid = new RexianError('REXIAN_BAD_REQUEST', { field, validation: err.validation }, message);
      return send(request, reply, invalid);
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
      if (known) return send(request, reply, known());
      // Any other client error of fastify's (a bad URL, a bad content-length, …): ours is
      // REXIAN_BAD_REQUEST, answered with fastify's own 4xx, which says more than 400.
      const bad = new RexianError('REXIAN_BAD_REQUEST', err.code ? { fastify: err.code } : {}, err.message);
      logClientError(request, status, bad.code, err.message);
      return reply.code(status).send(bad.toJSON());
    }
    request.log.error({ event: LogEvent.unhandledError, err }, 'unhandled error');
    const internal = new RexianError('REXIAN_INTERNAL', {});
    return reply.code(status >= 500 && status < 600 ? status : internal.statusCode).send(internal.toJSON());
  });

  // fastify's default 404 has its own shape; ours is the one error shape, logged like any
  // client mistake (a scanner probing paths is not an incident).
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    return send(request, reply, new RexianError('REXIAN_NO_SUCH_ROUTE', { method: request.method }, path));
  });
}
