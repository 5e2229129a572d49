// A lab per test file: its own Asterisk instance (own ports and directories in the shared
// chroot), a private Redis key prefix, and the env that points a controller at them.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';

import { type AgentEndpoint, AsteriskInstance, ensureChroot, repoRoot } from '../../src/asterisk/instance.js';

export interface LabPorts {
  sip: number;
  ari: number;
  ami: number;
  controller: number;
  /** First of ten ports SIPp peers may use for SIP; media uses sippMedia + 2·k. */
  sipp: number;
  sippMedia: number;
}

export interface Lab {
  name: string;
  asterisk: AsteriskInstance;
  ports: LabPorts;
  prefix: string;
  redis: Redis;
  env: Record<string, string>;
  /** A REST call to this lab's Asterisk (as the test, not as the controller). */
  ari<T = unknown>(method: string, path: string): Promise<{ status: number; body: T }>;
  /** A POST that must succeed (throws with Asterisk's answer otherwise). */
  ariPost<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
}

/** Flows for foundation tests: welcome, goodbye, hang up. */
export const greetingFlows = join(repoRoot, 'test/fixtures/flows-greeting');

export function labPorts(slot: number): LabPorts {
  const base = 20_000 + slot * 100;
  return {
    sip: base + 60,
    ari: base + 88,
    ami: base + 38,
    controller: base + 30,
    sipp: base + 70,
    sippMedia: 30_000 + slot * 100,
  };
}

export async function startLab(
  name: string,
  slot: number,
  options: {
    agents?: AgentEndpoint[];
    flowsDir?: string;
    pstnContact?: string;
    agentsFile?: string;
    queuesFile?: string;
    prefix?: string;
    numbers?: string[];
    extraDialplan?: string;
  } = {},
): Promise<Lab> {
  const chroot = ensureChroot();
  const ports = labPorts(slot);
  const secret = (): string => randomBytes(12).toString('hex');
  const ari = { username: 'rexian', password: secret(), app: 'rexian' };
  const ami = { username: 'rexian', password: secret() };
  const asterisk = new AsteriskInstance({
    name: `test-${name}`,
    chroot,
    sipPort: ports.sip,
    httpPort: ports.ari,
    amiPort: ports.ami,
    rtpStart: 40_000 + slot * 200,
    rtpEnd: 40_000 + slot * 200 + 198,
    ari,
    ami,
    agents: options.agents,
    numbers: options.numbers,
    extraDialplan: options.extraDialplan,
    pstnContact: options.pstnContact ?? `sip:127.0.0.1:${ports.sipp + 5}`,
  });
  await asterisk.render();
  await asterisk.stop(); // a leftover from an aborted run
  killStaleController(ports.controller);
  await asterisk.start();

  const prefix = options.prefix ?? `rexian-test:${name}:${randomBytes(4).toString('hex')}`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  // Keys an aborted run of this lab left behind (its teardown never ran).
  await deleteKeys(redis, `rexian-test:${name}`);
  // A database of the lab's own, made afresh: its call records are this run's only.
  const database = `rexian_test_${name.replace(/[^a-z0-9]/g, '_')}`;
  await recreateDatabase(database);
  const env: Record<string, string> = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    REXIAN_HTTP_PORT: String(ports.controller),
    REXIAN_ARI_URL: asterisk.ariUrl,
    REXIAN_ARI_USERNAME: ari.username,
    REXIAN_ARI_PASSWORD: ari.password,
    REXIAN_ARI_APP: ari.app,
    REXIAN_AMI_PORT: String(ports.ami),
    REXIAN_AMI_USERNAME: ami.username,
    REXIAN_AMI_PASSWORD: ami.password,
    REXIAN_SIP_PORT: String(ports.sip),
    REXIAN_REDIS_PREFIX: prefix,
    REXIAN_PROMPTS_DIR: asterisk.prompts.dir,
    REXIAN_PROMPTS_ASTERISK_DIR: asterisk.prompts.asteriskDir,
    REXIAN_PROMPTS_RECORDED_DIR: join(repoRoot, 'prompts/recorded'),
    REXIAN_PROMPTS_CATALOG: join(repoRoot, 'prompts/catalog.yaml'),
    REXIAN_FLOWS_DIR: options.flowsDir ?? join(repoRoot, 'ivr-flows'),
    REXIAN_QUEUES_FILE: options.queuesFile ?? join(repoRoot, 'sip-config/queues.yaml'),
    REXIAN_AGENTS_FILE: options.agentsFile ?? join(repoRoot, 'sip-config/agents.yaml'),
    REXIAN_ADMIN_TOKEN: `test-admin-${randomBytes(12).toString('hex')}`,
    REXIAN_LOG_LEVEL: 'debug',
    // Tests that want the dialer turn it on: it would otherwise call back their callers.
    REXIAN_DIALER_ENABLED: 'false',
  };
  return {
    name,
    asterisk,
    ports,
    prefix,
    redis,
    env,
    async ari<T>(method: string, path: string) {
      const res = await fetch(`${asterisk.ariUrl}/ari${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from(`${ari.username}:${ari.password}`).toString('base64')}` },
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async ariPost<T>(path: string) {
      const res = await fetch(`${asterisk.ariUrl}/ari${path}`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${ari.username}:${ari.password}`).toString('base64')}` },
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async close() {
      await asterisk.destroy();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await dropDatabase(database);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function recreateDatabase(name: string): Promise<void> {
  await dropDatabase(name);
  await adminQuery(`CREATE DATABASE ${name}`);
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Rows of a query on a lab's database. */
export async function dbRows<T>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * A controller left listening on this lab's port by an aborted run (its test runner killed,
 * the child not) would make the next run fail with EADDRINUSE: find it through /proc and
 * end it. Only our own controllers (…/src/main.ts) are touched.
 */
export function killStaleController(port: number): void {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1]!.endsWith(`:${hex}`) && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('src/main.ts')) continue;
      const holds = readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
        } catch {
          return false;
        }
      });
      if (holds) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // the process ended meanwhile
    }
  }
}

/** A Redis stream's entries as objects (agent events, audit, emergency events). */
export async function streamEntries(redis: Redis, key: string): Promise<Array<Record<string, string>>> {
  return (await redis.xrange(key, '-', '+')).map(([, f]) =>
    Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i]!, f[2 * i + 1]!])),
  );
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until the predicate holds or the time runs out (then throws with the label). */
export async function until<T>(
  label: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${label}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}
