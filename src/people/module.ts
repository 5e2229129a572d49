// People who sign in as themselves: accounts in PostgreSQL, sessions and lockouts in Redis,
// the sign-in audit stream. Built from the core (Redis, the PostgreSQL pool, the logger, the
// config), it registers its routes and gives the Authenticator a way to recognise a session,
// so every existing route authorizes a signed-in person exactly as it would a static token.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';

import type { Authenticator, Principal } from '../api/auth.js';
import type { Config } from '../config/index.js';
import type { Redis } from '../store/redis.js';
import { Accounts } from './accounts.js';
import { SignInAudit } from './audit.js';
import { presentedToken } from './cookie.js';
import { Lockout } from './lockout.js';
import { registerPhoneRoute } from './phone.js';
import { registerPeopleRoutes } from './routes.js';
import { PeopleService } from './service.js';
import { SessionStore } from './sessions.js';

export interface PeopleCore {
  app: FastifyInstance;
  redis: Redis;
  pool: pg.Pool;
  logger: Logger;
  config: Config;
  authn: Authenticator;
  migrationsDir: string;
  /** Whether an agent id is on the roster (the file's agents and API-added seats). */
  isAgent: (agentId: string) => boolean;
  /** The roster's device of an agent (sip or webrtc), for the browser phone's credentials. */
  agentDevice?: (agentId: string) => 'sip' | 'webrtc' | undefined;
  /** The roster's autoAnswer of an agent (the page answers by itself after a beep). */
  agentAutoAnswer?: (agentId: string) => boolean;
  /** A supervisor's own browser seat (src/supervision/seats.ts), for GET /api/session/phone. */
  supervisorSeat?: (name: string) => Promise<{ endpoint: string; password: string }>;
}

export interface PeopleModule {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a session token (bearer or cookie) stands for: a principal, `expired`, or nothing. */
export type SessionResolver = (
  headers: import('node:http').IncomingHttpHeaders,
) => Promise<Principal | 'expired' | undefined>;

export function createPeople(core: PeopleCore): PeopleModule {
  const { redis, config } = core;
  const prefix = config.redis.prefix;
  const logger = core.logger.child({ domain: 'people' });
  const audit = new SignInAudit(redis, prefix);
  const service = new PeopleService({
    accounts: new Accounts(core.pool, core.migrationsDir),
    sessions: new SessionStore(redis, prefix, () => config.auth.sessions),
    lockout: new Lockout(redis, prefix, () => config.auth.sessions.lockout),
    audit,
    logger,
    isAgent: core.isAgent,
  });
  const resolve: SessionResolver = async (headers) => {
    const found = await service.current(presentedToken(headers));
    if (!found) return undefined;
    return 'session' in found ? found.session.principal : 'expired';
  };
  core.authn.useSessions(resolve);
  registerPeopleRoutes(core.app, service, core.authn);
  registerPhoneRoute(core.app, {
    authn: core.authn,
    audit,
    logger,
    sipSecret: () => config.acd.agentSipSecret,
    ariUrl: () => config.ari.url,
    webrtcUrl: () => config.acd.webrtcUrl,
    agentDevice: core.agentDevice ?? (() => undefined),
    agentAutoAnswer: core.agentAutoAnswer,
    supervisorSeat: core.supervisorSeat,
  });
  return {
    start: () => service.start(),
    stop: async () => undefined,
  };
}
