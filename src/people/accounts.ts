// People's accounts in PostgreSQL (table `people`, migrations/005_people.sql): who may sign
// in, as which role, for which agent or teams, with which password hash. The schema is
// brought up to date before the first query, as the record writer does, because PostgreSQL
// may be down when the controller starts.
import type pg from 'pg';

import type { Principal, Role } from '../api/auth.js';
import { migrate } from '../records/migrate.js';

export interface Account {
  name: string;
  displayName?: string;
  role: Role;
  agentId?: string;
  teams: string[];
  passwordHash: string;
  disabled: boolean;
  passwordChangedAt: string;
}

/** An account as the API shows it: never the hash. */
export type PublicAccount = Omit<Account, 'passwordHash'>;

export interface AccountChange {
  displayName?: string;
  role: Role;
  agentId?: string;
  teams: string[];
  disabled: boolean;
  /** A new hash, or undefined to keep the current one. */
  passwordHash?: string;
}

interface Row {
  name: string;
  display_name: string | null;
  role: Role;
  agent_id: string | null;
  teams: string[];
  password_hash: string;
  disabled: boolean;
  password_changed_at: Date;
}

const COLUMNS = 'name, display_name, role, agent_id, teams, password_hash, disabled, password_changed_at';

function fromRow(row: Row): Account {
  return {
    name: row.name,
    role: row.role,
    teams: row.teams,
    passwordHash: row.password_hash,
    disabled: row.disabled,
    passwordChangedAt: row.password_changed_at.toISOString(),
    ...(row.display_name ? { displayName: row.display_name } : {}),
    ...(row.agent_id ? { agentId: row.agent_id } : {}),
  };
}

export function publicAccount(account: Account): PublicAccount {
  const { passwordHash: _hidden, ...rest } = account;
  return rest;
}

/** What a session of this account may do: the same shape a static token gives (src/api/auth.ts). */
export function principalOf(account: Account): Principal {
  return {
    name: account.name,
    role: account.role,
    ...(account.role === 'agent' && account.agentId ? { agentId: account.agentId } : {}),
    ...(account.role === 'supervisor' ? { teams: account.teams } : {}),
  };
}

export class Accounts {
  private schema: Promise<unknown> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly migrationsDir: string,
  ) {}

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.schema ??= migrate(this.pool, this.migrationsDir).catch((err: unknown) => {
      this.schema = undefined; // try again on the next query
      throw err;
    });
    await this.schema;
    return this.pool.query<R>(text, values);
  }

  /** The account a sign-in name finds: its name, or for agents their agent id. */
  async findForSignIn(name: string): Promise<Account | undefined> {
    const res = await this.query<Row>(
      `SELECT ${COLUMNS} FROM people WHERE name = $1 OR (role = 'agent' AND agent_id = $1) ORDER BY (name = $1) DESC LIMIT 1`,
      [name],
    );
    return res.rows[0] ? fromRow(res.rows[0]) : undefined;
  }

  async get(name: string): Promise<Account | undefined> {
    const res = await this.query<Row>(`SELECT ${COLUMNS} FROM people WHERE name = $1`, [name]);
    return res.rows[0] ? fromRow(res.rows[0]) : undefined;
  }

  async list(): Promise<Account[]> {
    return (await this.query<Row>(`SELECT ${COLUMNS} FROM people ORDER BY name`, [])).rows.map(fromRow);
  }

  /** Creates or updates an account; a new account needs a password hash. Returns the stored account. */
  async put(name: string, change: AccountChange): Promise<{ account: Account; created: boolean }> {
    const res = await this.query<Row & { created: boolean }>(
      `INSERT INTO people (name, display_name, role, agent_id, teams, password_hash, disabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET
         display_name = EXCLUDED.display_name, role = EXCLUDED.role, agent_id = EXCLUDED.agent_id,
         teams = EXCLUDED.teams, disabled = EXCLUDED.disabled, updated_at = now(),
         password_hash = CASE WHEN $8 THEN EXCLUDED.password_hash ELSE people.password_hash END,
         password_changed_at = CASE WHEN $8 THEN now() ELSE people.password_changed_at END
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [
        name,
        change.displayName ?? null,
        change.role,
        change.agentId ?? null,
        change.teams,
        change.passwordHash ?? '',
        change.disabled,
        change.passwordHash !== undefined,
      ],
    );
    const row = res.rows[0]!;
    return { account: fromRow(row), created: row.created };
  }

  async setPassword(name: string, passwordHash: string): Promise<void> {
    await this.query(
      'UPDATE people SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE name = $1',
      [name, passwordHash],
    );
  }
}
