// Bearer-token authentication. Until roles arrive with the control API, the admin token
// (auth.adminToken / REXIAN_ADMIN_TOKEN) is the only key; with none configured, every /api
// call is refused: secure by default.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export function requireAdmin(adminToken: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!adminToken || !token || !sameToken(token, adminToken)) {
      await reply.code(401).send({ error: { code: 'REXIAN_UNAUTHORIZED', message: 'a valid bearer token is required', details: {} } });
    }
  };
}

/** Constant-time comparison of a presented token with the expected one. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
