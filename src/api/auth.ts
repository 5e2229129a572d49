// Bearer-token authentication and roles. Tokens come from configuration: the admin token
// (auth.adminToken / REXIAN_ADMIN_TOKEN) and auth.tokens, each with a role (agent,
// supervisor, ops, admin), the agent it speaks for, the teams a supervisor oversees.
// A token may be given as its SHA-256 (tokenSha256) so no usable secret sits in a file.
// With no token configured, every /api call is refused: secure by default.
import { createHash, timingSafeEqual } from 'node:crypto';
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
}

export interface TokenConfig {
  name: string;
  role: Role;
  token?: string;
  tokenSha256?: string;
  agent?: string;
  teams?: string[];
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

export class Authenticator {
  private readonly byHash = new Map<string, Principal>();

  constructor(options: { adminToken?: string; tokens?: TokenConfig[] }) {
    if (options.adminToken) this.byHash.set(sha256(options.adminToken), { name: 'admin', role: 'admin' });
    for (const t of options.tokens ?? []) {
      const hash = t.tokenSha256?.toLowerCase() ?? (t.token ? sha256(t.token) : undefined);
      if (!hash) continue;
      this.byHash.set(hash, {
        name: t.name, role: t.role,
        ...(t.agent ? { agentId: t.agent } : {}),
        ...(t.teams ? { teams: t.teams } : {}),
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
}

export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** A preHandler: the request needs a valid token of one of these roles (admin always may). */
export function requireRole(auth: Authenticator, ...roles: Role[]): PreHandler {
  return async (request, reply) => {
    const principal = auth.fromHeader(request.headers.authorization);
    if (!principal) {
      await reply.code(401).send({ error: { code: 'REXIAN_UNAUTHORIZED', message: 'a valid bearer token is required', details: {} } });
      return;
    }
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      await reply.code(403).send({ error: { code: 'REXIAN_FORBIDDEN', message: `role ${principal.role} may not do this (needs ${['admin', ...roles].join(' or ')})`, details: { role: principal.role } } });
      return;
    }
    request.principal = principal;
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

export function forbidden(message: string, details: Record<string, unknown> = {}): RexianError {
  return new RexianError('REXIAN_FORBIDDEN', message, details, 403);
}
