// HTTP routes of sign-in and accounts. Thin: validate, call the service, shape the reply.
//   POST   /api/session                 sign in {name, password}: token in the body and a cookie
//   GET    /api/session                 who the caller is (a session, or a static token)
//   DELETE /api/session                 sign out
//   POST   /api/session/password        change one's own password {oldPassword, newPassword}
//   GET    /api/people                  the accounts (admin, ops)
//   PUT    /api/people/:name            create or update an account (admin; ops for agents)
//   DELETE /api/people/:name/sessions   end all of a person's sessions (admin; ops for agents)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { type Authenticator, requireRole } from '../api/auth.js';
import { isRexianError, RexianError } from '../errors/index.js';
import type { Client } from './audit.js';
import { clearedCookie, presentedToken, sessionCookie } from './cookie.js';
import type { PeopleService, PersonInput } from './service.js';

const security = [{ bearer: [] }];
const nameParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: "account name (an agent's is usually the agent id)",
    },
  },
} as const;

function clientOf(req: FastifyRequest): Client {
  const ua = req.headers['user-agent'];
  return { address: req.ip, ...(ua ? { userAgent: ua } : {}) };
}

function secure(req: FastifyRequest): boolean {
  return req.protocol === 'https';
}

function secondsUntil(iso: string): number {
  return Math.max(0, Math.floor((Date.parse(iso) - Date.now()) / 1000));
}

export function registerPeopleRoutes(app: FastifyInstance, people: PeopleService, authn: Authenticator): void {
  const managers = requireRole(authn, 'ops');

  app.post<{ Body: { name: string; password: string } }>(
    '/api/session',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Sign in as a person: returns a session token and sets it as an HttpOnly cookie',
        body: {
          type: 'object',
          required: ['name', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 } },
        },
      },
    },
    async (req, reply) => {
      try {
        const { token, session } = await people.signIn(req.body.name, req.body.password, clientOf(req));
        reply.header('set-cookie', sessionCookie(token, secondsUntil(session.endsAt), secure(req)));
        reply.header('cache-control', 'no-store');
        return { token, ...session };
      } catch (err) {
        if (isRexianError(err, 'REXIAN_SIGN_IN_LOCKED'))
          reply.header('retry-after', String(err.details.retryAfterSeconds));
        throw err;
      }
    },
  );

  app.get(
    '/api/session',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Who the caller is: the session (and when it ends) or the static token',
        security,
      },
    },
    async (req, reply) => {
      const found = await people.current(presentedToken(req.headers));
      if (found && 'session' in found) return { kind: 'session', ...found.session };
      if (found) throw new RexianError('REXIAN_SESSION_EXPIRED', {});
      const principal = authn.fromHeader(req.headers.authorization);
      if (principal) return { kind: 'token', principal };
      reply.header('set-cookie', clearedCookie(secure(req)));
      throw new RexianError('REXIAN_UNAUTHORIZED', {}, 'not signed in');
    },
  );

  app.delete(
    '/api/session',
    {
      schema: { tags: ['sign-in'], summary: 'Sign out: ends the presented session (idempotent)', security },
    },
    async (req, reply) => {
      const token = presentedToken(req.headers);
      if (token) await people.signOut(token, clientOf(req));
      return reply
        .code(204)
        .header('set-cookie', clearedCookie(secure(req)))
        .send();
    },
  );

  app.post<{ Body: { oldPassword: string; newPassword: string } }>(
    '/api/session/password',
    {
      schema: {
        tags: ['sign-in'],
        summary: "Change one's own password (at least 8 characters); ends one's other sessions",
        security,
        body: {
          type: 'object',
          required: ['oldPassword', 'newPassword'],
          additionalProperties: false,
          properties: {
            oldPassword: { type: 'string', maxLength: 1024 },
            newPassword: { type: 'string', maxLength: 1024 },
          },
        },
      },
    },
    async (req, reply) => {
      const found = await people.current(presentedToken(req.headers));
      if (found && !('session' in found)) throw new RexianError('REXIAN_SESSION_EXPIRED', {});
      if (!found)
        throw new RexianError(
          'REXIAN_UNAUTHORIZED',
          {},
          "sign in first: only a person's session has a password to change",
        );
      await people.changePassword(
        found.session.principal.name,
        found.hash,
        req.body.oldPassword,
        req.body.newPassword,
        clientOf(req),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/people',
    {
      onRequest: managers,
      schema: { tags: ['sign-in'], summary: 'Accounts of people who sign in (never their password hashes)', security },
    },
    async () => ({ people: await people.list() }),
  );

  app.put<{ Params: { name: string }; Body: PersonInput }>(
    '/api/people/:name',
    {
      onRequest: managers,
      schema: {
        tags: ['sign-in'],
        summary: 'Create or update an account (admin; ops for agents). Changing it ends its sessions',
        security,
        params: nameParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            role: { enum: ['agent', 'supervisor', 'ops', 'admin'] },
            agent: { type: 'string', description: 'for agents: the agent id (default: the name)' },
            teams: { type: 'array', items: { type: 'string' }, description: 'for supervisors: the teams they oversee' },
            displayName: { type: 'string', maxLength: 64 },
            password: {
              type: 'string',
              maxLength: 1024,
              description: 'required for a new account; at least 8 characters',
            },
            disabled: {
              type: 'boolean',
              description: 'a disabled account cannot sign in; disabling ends its sessions',
            },
          },
        },
      },
    },
    async (req, reply: FastifyReply) => {
      const { person, created } = await people.put(req.principal!, req.params.name, req.body ?? {}, clientOf(req));
      return reply.code(created ? 201 : 200).send({ person });
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/people/:name/sessions',
    {
      onRequest: managers,
      schema: { tags: ['sign-in'], summary: 'End every session of a person at once', security, params: nameParams },
    },
    async (req) => ({ ended: await people.revoke(req.principal!, req.params.name, clientOf(req)) }),
  );
}
