// `rexian person add NAME --role ROLE [--agent ID] [--teams a,b] [--display-name TEXT] [--password P]`:
// creates or updates a person's account from the command line, with the controller's own
// configuration (PostgreSQL, Redis). It is how a fresh install gets its first admin, who
// then manages everyone else through PUT /api/people/:name. With no --password, one is
// generated and printed once. It goes through the same service as the API: same checks,
// same audit entry (by "cli"), and an update ends the person's sessions.
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';
import { pino } from 'pino';

import { parseRoster } from '../acd/roster.js';
import { repoRoot } from '../asterisk/instance.js';
import { loadConfig } from '../config/index.js';
import { Accounts } from '../people/accounts.js';
import { SignInAudit } from '../people/audit.js';
import { Lockout } from '../people/lockout.js';
import { generatePassword } from '../people/passwords.js';
import { PeopleService } from '../people/service.js';
import { SessionStore } from '../people/sessions.js';
import { connectRedis } from '../store/redis.js';

const usage =
  'usage: rexian person add NAME --role agent|supervisor|ops|admin [--agent ID] [--teams a,b] [--display-name TEXT] [--password P]';

export async function personCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      agent: { type: 'string' },
      teams: { type: 'string' },
      'display-name': { type: 'string' },
      password: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (action !== 'add' || !name || positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig();
  const logger = pino({ level: 'silent' });
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 1, connectionTimeoutMillis: 5_000 });
  const redis = connectRedis(config.redis, logger);
  const prefix = config.redis.prefix;
  try {
    const fileAgents = parseRoster(config.acd.agents).agents;
    const apiAgents = await redis.hkeys(`${prefix}:roster:api`);
    const service = new PeopleService({
      accounts: new Accounts(pool, join(repoRoot, 'migrations')),
      sessions: new SessionStore(redis, prefix, () => config.auth.sessions),
      lockout: new Lockout(redis, prefix, () => config.auth.sessions.lockout),
      audit: new SignInAudit(redis, prefix),
      logger,
      isAgent: (id) => fileAgents.has(id) || apiAgents.includes(id),
    });
    const password = values.password ?? generatePassword();
    const { person, created } = await service.put(
      { name: 'cli', role: 'admin' },
      name,
      {
        ...(values.role !== undefined ? { role: values.role } : {}),
        ...(values.agent !== undefined ? { agent: values.agent } : {}),
        ...(values.teams !== undefined
          ? {
              teams: values.teams
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
            }
          : {}),
        ...(values['display-name'] !== undefined ? { displayName: values['display-name'] } : {}),
        password,
      },
      { address: 'cli' },
    );
    const what = [
      person.role,
      person.agentId ? `agent ${person.agentId}` : '',
      person.teams.length ? `teams ${person.teams.join(',')}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    console.log(`${created ? 'created' : 'updated'} ${person.name} (${what})`);
    if (values.password === undefined) console.log(`password: ${password}`);
    return 0;
  } finally {
    redis.disconnect();
    await pool.end().catch(() => undefined);
  }
}
