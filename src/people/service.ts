// Signing people in and out, and managing who may. The rules:
// - an unknown name, a disabled account and a wrong password get the same answer after the
//   same work (a dummy scrypt for the unknown name), so neither the answer nor its timing
//   tells which names exist;
// - a locked-out (name, address) pair is refused before any password is checked, even a
//   right one, and the attempt that locks it out is already answered "locked";
// - a session carries the same Principal a static token does, so every route authorizes it
//   exactly as a token; changing what an account may do (role, agent, teams, password,
//   disabling it) ends its sessions, so no session outlives the rights it was issued with;
// - everything lands in the sign-in audit stream.
import type { Logger } from 'pino';

import type { Principal, Role } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import { type Accounts, principalOf, type PublicAccount, publicAccount } from './accounts.js';
import type { Client, SignInAudit } from './audit.js';
import { type Lockout, retryAfterSeconds } from './lockout.js';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  verifyNobody,
  verifyPassword,
  warmUp,
} from './passwords.js';
import type { Session, SessionLookup, SessionStore } from './sessions.js';

export const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;
const AGENT_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;
const TEAM_PATTERN = /^[a-z0-9-]+$/;
const ROLES: Role[] = ['agent', 'supervisor', 'ops', 'admin'];

export interface PeopleDeps {
  accounts: Accounts;
  sessions: SessionStore;
  lockout: Lockout;
  audit: SignInAudit;
  logger: Logger;
  /** Whether an agent id is on the roster (file or API-added seats). */
  isAgent: (agentId: string) => boolean;
}

/** The body of PUT /api/people/:name. */
export interface PersonInput {
  role?: unknown;
  agent?: unknown;
  teams?: unknown;
  displayName?: unknown;
  password?: unknown;
  disabled?: unknown;
}

function badRequest(message: string, details: Record<string, unknown> = {}): RexianError {
  return new RexianError('REXIAN_BAD_REQUEST', details, message);
}

export class PeopleService {
  constructor(private readonly deps: PeopleDeps) {}

  async start(): Promise<void> {
    await warmUp();
  }

  async signIn(name: unknown, password: unknown, client: Client): Promise<{ token: string; session: Session }> {
    const { accounts, lockout, audit, sessions } = this.deps;
    const typed = typeof name === 'string' ? name.trim().slice(0, 64) : '';
    const secret = typeof password === 'string' ? password.slice(0, MAX_PASSWORD_LENGTH) : '';
    if (!typed || !secret) throw badRequest('name and password are required');
    const lockedMs = await lockout.lockedFor(typed, client.address);
    if (lockedMs > 0) {
      await audit.record({ event: 'locked-attempt', name: typed }, client);
      throw this.locked(lockedMs);
    }
    const account = NAME_PATTERN.test(typed) ? await accounts.findForSignIn(typed) : undefined;
    const right = account ? await verifyPassword(secret, account.passwordHash) : await verifyNobody(secret);
    if (!account || !right || account.disabled) {
      const reason = !account ? 'unknown-name' : !right ? 'wrong-password' : 'disabled';
      const { count, lockedMs: locks } = await lockout.fail(typed, client.address);
      await audit.record({ event: 'failure', name: typed, reason, count }, client);
      this.deps.logger.info({ name: typed, address: client.address, reason, count }, 'sign-in refused');
      if (locks > 0) {
        await audit.record({ event: 'lockout', name: typed, seconds: retryAfterSeconds(locks) }, client);
        this.deps.logger.warn(
          { name: typed, address: client.address, count },
          'sign-in locked out after repeated failures',
        );
        throw this.locked(locks);
      }
      throw new RexianError('REXIAN_SIGN_IN_FAILED', {});
    }
    await lockout.succeed(typed, client.address);
    const made = await sessions.create(principalOf(account), account.displayName);
    await audit.record({ event: 'sign-in', name: account.name, role: account.role, agentId: account.agentId }, client);
    this.deps.logger.info(
      { name: account.name, role: account.role, agentId: account.agentId, address: client.address },
      'signed in',
    );
    return made;
  }

  private locked(ms: number): RexianError {
    const seconds = retryAfterSeconds(ms);
    return new RexianError('REXIAN_SIGN_IN_LOCKED', { retryAfterSeconds: seconds });
  }

  /** The session a token stands for (renewed by the lookup). */
  current(token: string): Promise<SessionLookup> {
    return this.deps.sessions.use(token);
  }

  async signOut(token: string, client: Client): Promise<void> {
    const name = await this.deps.sessions.end(token);
    if (name) await this.deps.audit.record({ event: 'sign-out', name }, client);
  }

  /** A person changes their own password: the old one must be right (and counts toward lockout). */
  async changePassword(
    name: string,
    sessionHash: string,
    oldPassword: unknown,
    newPassword: unknown,
    client: Client,
  ): Promise<void> {
    const { accounts, lockout, audit, sessions } = this.deps;
    const problem = passwordProblem(newPassword);
    if (problem) throw new RexianError('REXIAN_PASSWORD_TOO_SHORT', { minLength: MIN_PASSWORD_LENGTH }, problem);
    const lockedMs = await lockout.lockedFor(name, client.address);
    if (lockedMs > 0) throw this.locked(lockedMs);
    const account = await accounts.get(name);
    const right =
      account &&
      typeof oldPassword === 'string' &&
      (await verifyPassword(oldPassword.slice(0, MAX_PASSWORD_LENGTH), account.passwordHash));
    if (!account || !right) {
      const { lockedMs: locks } = await lockout.fail(name, client.address);
      await audit.record({ event: 'failure', name, reason: 'wrong-old-password' }, client);
      if (locks > 0) throw this.locked(locks);
      throw new RexianError('REXIAN_PASSWORD_WRONG', {});
    }
    await accounts.setPassword(name, await hashPassword(newPassword as string));
    // Whoever else holds a session of this person (a stolen one, say) is out; this one stays.
    const ended = await sessions.endAll(name, sessionHash);
    await audit.record({ event: 'password-change', name, endedSessions: ended }, client);
  }

  async list(): Promise<PublicAccount[]> {
    return (await this.deps.accounts.list()).map(publicAccount);
  }

  /** Creates or updates an account. Admins may touch anyone; ops only agents. */
  async put(
    by: Principal,
    name: string,
    input: PersonInput,
    client: Client,
  ): Promise<{ person: PublicAccount; created: boolean }> {
    if (!NAME_PATTERN.test(name)) throw badRequest('a name is 1 to 64 letters, digits, ".", "_" or "-"', { name });
    const existing = await this.deps.accounts.get(name);
    const role = input.role ?? existing?.role;
    if (typeof role !== 'string' || !ROLES.includes(role as Role))
      throw badRequest(`role must be one of ${ROLES.join(', ')}`, { role });
    if (by.role !== 'admin' && (role !== 'agent' || (existing && existing.role !== 'agent'))) {
      throw new RexianError('REXIAN_FORBIDDEN', { role: by.role }, `role ${by.role} may manage agents' accounts only`);
    }
    const agentId = role === 'agent' ? (input.agent ?? existing?.agentId ?? name) : undefined;
    if (agentId !== undefined) {
      if (typeof agentId !== 'string' || !AGENT_PATTERN.test(agentId))
        throw badRequest('agent must be an agent id', { agent: agentId });
      if (!this.deps.isAgent(agentId)) throw new RexianError('REXIAN_UNKNOWN_AGENT', { agentId });
    }
    const teams = role === 'supervisor' ? (input.teams ?? existing?.teams ?? []) : [];
    if (!Array.isArray(teams) || !teams.every((t) => typeof t === 'string' && TEAM_PATTERN.test(t)))
      throw badRequest('teams must be a list of team ids', { teams });
    const displayName = input.displayName ?? existing?.displayName;
    if (displayName !== undefined && (typeof displayName !== 'string' || displayName.length > 64))
      throw badRequest('displayName must be text of at most 64 characters');
    const disabled = input.disabled ?? existing?.disabled ?? false;
    if (typeof disabled !== 'boolean') throw badRequest('disabled must be true or false');
    if (!existing && input.password === undefined) throw badRequest('a new account needs a password', { name });
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw new RexianError('REXIAN_PASSWORD_TOO_SHORT', { minLength: MIN_PASSWORD_LENGTH }, problem);
    }
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password as string);
    let stored;
    try {
      stored = await this.deps.accounts.put(name, {
        role: role as Role,
        agentId,
        teams: teams as string[],
        displayName,
        disabled,
        passwordHash,
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new RexianError('REXIAN_ACCOUNT_EXISTS', { agentId });
      throw err;
    }
    const { account, created } = stored;
    const changed =
      !existing ||
      passwordHash !== undefined ||
      disabled !== existing.disabled ||
      role !== existing.role ||
      agentId !== existing.agentId ||
      teams.join(',') !== existing.teams.join(',');
    const ended = existing && changed ? await this.deps.sessions.endAll(name) : 0;
    await this.deps.audit.record(
      { event: 'account-put', name, by: by.name, role: account.role, disabled, created, endedSessions: ended },
      client,
    );
    this.deps.logger.info(
      { name, by: by.name, role: account.role, agentId: account.agentId, created, endedSessions: ended },
      'account saved',
    );
    return { person: publicAccount(account), created };
  }

  /** Ends all sessions of a person. Admins for anyone; ops for agents. */
  async revoke(by: Principal, name: string, client: Client): Promise<number> {
    const account = await this.deps.accounts.get(name);
    if (!account) throw new RexianError('REXIAN_NOT_FOUND', { name }, `no account ${name}`);
    if (by.role !== 'admin' && account.role !== 'agent') {
      throw new RexianError('REXIAN_FORBIDDEN', { role: by.role }, `role ${by.role} may end agents' sessions only`);
    }
    const ended = await this.deps.sessions.endAll(name);
    await this.deps.audit.record({ event: 'revoke', name, by: by.name, endedSessions: ended }, client);
    this.deps.logger.info({ name, by: by.name, endedSessions: ended }, 'sessions revoked');
    return ended;
  }
}
