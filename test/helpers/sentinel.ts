// A Redis master, one replica and three sentinels (Debian's redis-server and redis-sentinel:
// `redis-server --sentinel` is the same binary), started by a test in a temp dir of its own on
// ports it is given, and killed in its teardown. It fails the master over on request (SENTINEL
// FAILOVER) or by kill -9, and brings a killed node back, which the sentinels then make a
// replica of the new master.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { sleep, until } from './lab.js';

export interface SentinelPorts {
  /** The two data nodes: the first starts as the master. */
  nodes: [number, number];
  sentinels: [number, number, number];
}

export interface SentinelTimings {
  /** How long a master may not answer before a sentinel thinks it down (down-after-milliseconds). */
  downAfterMs: number;
  failoverTimeoutMs: number;
}

export class SentinelRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'rexian-sentinel-'));
  private readonly processes = new Map<number, ChildProcess>();
  private readonly log: string[] = [];

  constructor(
    readonly name: string,
    readonly ports: SentinelPorts,
    readonly timings: SentinelTimings = { downAfterMs: 1_000, failoverTimeoutMs: 4_000 },
  ) {}

  /** host:port of each sentinel, as REXIAN_REDIS_SENTINELS takes them. */
  get sentinelList(): string {
    return this.ports.sentinels.map((p) => `127.0.0.1:${p}`).join(',');
  }

  async start(): Promise<void> {
    const [first, second] = this.ports.nodes;
    this.startNode(first);
    this.startNode(second, first);
    await until(
      'the replica in sync',
      async () => /master_link_status:up/.test(await this.info(second, 'replication')),
      15_000,
    );
    for (const port of this.ports.sentinels) {
      const conf = join(this.dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${this.name} 127.0.0.1 ${first} 2`,
          `sentinel down-after-milliseconds ${this.name} ${this.timings.downAfterMs}`,
          `sentinel failover-timeout ${this.name} ${this.timings.failoverTimeoutMs}`,
          `sentinel parallel-syncs ${this.name} 1`,
          '',
        ].join('\n'),
      );
      this.spawn(port, [conf, '--sentinel']);
    }
    // Each sentinel has found the replica and the other two (their hello messages, every 2 s).
    await until(
      'three sentinels that know each other and the replica',
      async () => {
        for (const port of this.ports.sentinels) {
          const s = this.client(port);
          try {
            const sentinels = (await s.call('SENTINEL', 'SENTINELS', this.name)) as unknown[];
            const replicas = (await s.call('SENTINEL', 'REPLICAS', this.name)) as unknown[];
            if (sentinels.length < 2 || replicas.length < 1) return false;
          } finally {
            s.disconnect();
          }
        }
        return true;
      },
      30_000,
      250,
    );
  }

  /** The master's port, as the sentinels say. */
  async masterPort(sentinel = this.ports.sentinels[0]): Promise<number> {
    const s = this.client(sentinel);
    try {
      const [, port] = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
      return Number(port);
    } finally {
      s.disconnect();
    }
  }

  /** The port of the node that is not the master. */
  async replicaPort(): Promise<number> {
    const master = await this.masterPort();
    return this.ports.nodes.find((p) => p !== master)!;
  }

  /** SENTINEL FAILOVER; resolves with the ms until every sentinel names the new master. */
  async failover(): Promise<{ from: number; to: number; ms: number }> {
    const from = await this.masterPort();
    const s = this.client(this.ports.sentinels[0]);
    const startedAt = Date.now();
    try {
      await s.call('SENTINEL', 'FAILOVER', this.name);
    } finally {
      s.disconnect();
    }
    const to = await this.switched(from);
    return { from, to, ms: Date.now() - startedAt };
  }

  /** kill -9 of the master; resolves with the ms until every sentinel names the new master. */
  async killMaster(): Promise<{ from: number; to: number; ms: number }> {
    const from = await this.masterPort();
    const startedAt = Date.now();
    this.processes.get(from)?.kill('SIGKILL');
    const to = await this.switched(from, 30_000);
    return { from, to, ms: Date.now() - startedAt };
  }

  /** Starts a killed node again (empty: no persistence); the sentinels make it a replica of the master. */
  async restartNode(port: number): Promise<void> {
    this.startNode(port);
    await until(
      `node ${port} a replica in sync again`,
      async () => /master_link_status:up/.test(await this.info(port, 'replication')),
      30_000,
      250,
    );
  }

  /** A client of the data node on a port (not through the sentinels). */
  node(port: number): Redis {
    return this.client(port);
  }

  async stop(): Promise<void> {
    for (const child of this.processes.values()) child.kill('SIGKILL');
    await sleep(100);
    this.processes.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines the processes printed (for a failure's message). */
  tail(lines = 40): string {
    return this.log.slice(-lines).join('\n');
  }

  private async switched(from: number, timeoutMs = 20_000): Promise<number> {
    let to = from;
    await until(
      'every sentinel names the new master',
      async () => {
        const ports = await Promise.all(this.ports.sentinels.map((p) => this.masterPort(p).catch(() => from)));
        to = ports[0]!;
        return ports.every((p) => p === to && p !== from);
      },
      timeoutMs,
      50,
    );
    return to;
  }

  private startNode(port: number, replicaOf?: number): void {
    const dir = join(this.dir, `node-${port}`);
    mkdirSync(dir, { recursive: true });
    this.spawn(port, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ]);
  }

  private spawn(port: number, args: string[]): void {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      for (const line of b.toString().split('\n')) if (line) this.log.push(`${port}: ${line}`);
      if (this.log.length > 2_000) this.log.splice(0, 1_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.processes.set(port, child);
  }

  private client(port: number): Redis {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    c.on('error', () => undefined); // a node being killed is the point; the caller sees the failed command
    return c;
  }

  private async info(port: number, section: string): Promise<string> {
    const c = this.client(port);
    try {
      return await c.info(section);
    } catch {
      return '';
    } finally {
      c.disconnect();
    }
  }
}
