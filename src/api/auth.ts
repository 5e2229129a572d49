// Bearer-token authentication and roles. Tokens come from configuration: the admin token
// (auth.adminToken / REXIAN_ADMIN_TOKEN) and auth.tokens, each with a role (agent,
// supervisor, ops, admin), the agent it speaks for, the teams a supervisor oversees.
// A token may be given as its SHA-256 (tokenSha256) so no usable secret sits in a file.
// People sign in as themselves (src/people/): their sessions are consulted after the tokens.
// With no token configured, every /api call is refused: secure by default.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { RexianError } from '../errors/index.js';

export type Role = 'agent' | 'supervisor' | 'ops' | 'admin';

export interface Principal {
  name: string;
  role: Role;
  /** For agents: the agent id this token acts as. */
  agentId?: string;
  /** For supervisors: the teams they oversee. */
  teams?: string[];
  /** May see the real number of a masked call (every such view is audited). */
  revealNumbers?: boolean;
}

export interface TokenConfig {
  name: string;
  role: Role;
  token?: string;
  tokenSha256?: string;
  agent?: string;
  teams?: string[];
  revealNumbers?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Constant-time comparison of a presented token with the expected one. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** People's sessions (src/people/): what a bearer token or session cookie that is no static token stands for. */
export type SessionResolver = (headers: IncomingHttpHeaders) => Promise<Principal | 'expired' | undefined>;

export class Authenticator {
  private readonly byHash = new Map<string, Principal>();
  private sessions: SessionResolver | undefined;

  constructor(options: { adminToken?: string; tokens?: TokenConfig[] }) {
    if (options.adminToken) this.byHash.set(sha256(options.adminToken), { name: 'admin', role: 'admin' });
    for (const t of options.tokens ?? []) {
      const hash = t.tokenSha256?.toLowerCase() ?? (t.token ? sha256(t.token) : undefined);
      if (!hash) continue;
      this.byHash.set(hash, {
        name: t.name,
        role: t.role,
        ...(t.agent ? { agentId: t.agent } : {}),
        ...(t.teams ? { teams: t.teams } : {}),
        ...(t.revealNumbers ? { revealNumbers: true } : {}),
      });
    }
  }

  /** The principal a presented token stands for, or undefined. */
  identify(token: string): Principal | undefined {
    if (!token) return undefined;
    const hash = sha256(token);
    // Compare hashes in constant time against every entry, so timing tells nothing.
    let found: Principal | undefined;
    for (const [known, principal] of this.byHash) if (sameToken(hash, known)) found = principal;
    return found;
  }

  fromHeader(header: string | undefined): Principal | undefined {
    const value = header ?? '';
    return this.identify(value.startsWith('Bearer ') ? value.slice(7) : '');
  }

  useSessions(resolver: SessionResolver): void {
    this.sessions = resolver;
  }

  /** Who sent a request: a static token first (machines), else a person's session. */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | 'expired' | undefined> {
    return this.fromHeader(headers.authorization) ?? (await this.sessions?.(headers));
  }
}

/**
 * A request hook that admits a principal. Register it as `onRequest`: it runs before the
 * body is read and checked, so a client without a valid token learns nothing about the
 * request it sent (not even that its body is malformed) and costs no parsing.
 */
export type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** An onRequest hook: the request needs a valid token of one of these roles (admin always may). */
export function requireRole(auth: Authenticator, ...roles: Role[]): AuthHook {
  return async (request, reply) => {
    const principal = await auth.authenticate(request.headers);
    if (principal === 'expired') {
      return refuse(reply, new RexianError('REXIAN_SESSION_EXPIRED', {}));
    }
    if (!principal) {
      return refuse(reply, new RexianError('REXIAN_UNAUTHORIZED', {}, 'a valid bearer token is required'));
    }
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      return refuse(
        reply,
        forbidden(`role ${principal.role} may not do this (needs ${['admin', ...roles].join(' or ')})`, {
          role: principal.role,
        }),
      );
    }
    request.principal = principal;
    return undefined;
  };
}

/** Whether a principal may see and act for an agent (of the given team). */
export function mayActForAgent(principal: Principal, agentId: string, team: string | undefined): boolean {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'agent':
      return principal.agentId === agentId;
    case 'supervisor':
      return team !== undefined && (principal.teams ?? []).includes(team);
    default:
      return false;
  }
}

/** Answers a refused request from the hook itself (no log line: a refusal is not news). */
function refuse(reply: FastifyReply, err: RexianError): FastifyReply {
  return reply.code(err.statusCode).send(err.toJSON());
}

export function forbidden(message: string, details: Record<string, unknown> = {}): RexianError {
  return new RexianError('REXIAN_FORBIDDEN', details, message);
}
