// Runs the real controller as a child process (so SIGKILL is a real crash) and collects
// its pino JSON log lines for assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { repoRoot } from '../../src/asterisk/instance.js';
import type { LogEventName } from '../../src/events/log-events.js';
import { until } from './lab.js';

export interface LogLine {
  level: number;
  msg: string;
  time: number;
  /** What happened, a stable name (src/events/log-events.ts); msg is prose and may be reworded. */
  event?: string;
  callId?: string;
  channelId?: string;
  [key: string]: unknown;
}

export class ControllerProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  private child: ChildProcess | undefined;
  private exitCode: number | null | undefined;

  constructor(
    private readonly env: Record<string, string>,
    private readonly port: number,
  ) {}

  start(extraEnv: Record<string, string> = {}): this {
    this.exitCode = undefined;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // REXIAN_TEST_LOGS=dir keeps every controller's log for a look after a failure.
    const keep = process.env.REXIAN_TEST_LOGS
      ? join(process.env.REXIAN_TEST_LOGS, `controller-${this.port}.log`)
      : undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (keep) appendFileSync(keep, `${line}\n`);
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr.push(line);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    child.on('exit', (code) => {
      this.exitCode = code;
    });
    return this;
  }

  /** A call to the controller's API as the admin. */
  async api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.env.REXIAN_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  async readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    await until(
      'controller /readyz = 200',
      async () => {
        if (this.exitCode !== undefined)
          throw new Error(`controller exited with ${this.exitCode}: ${this.stderr.join('\n')}`);
        return (await this.readyz()).status === 200;
      },
      timeoutMs,
    );
  }

  /**
   * The first log line (from index `from` on) with this event (or one of these) that the predicate
   * accepts. Tests key on `event`, never on the message, so that rewording a message breaks no test.
   */
  waitForEvent(
    event: LogEventName | readonly LogEventName[],
    predicate: (line: LogLine) => boolean = () => true,
    timeoutMs = 15_000,
    from = 0,
  ): Promise<LogLine> {
    const events: readonly string[] = typeof event === 'string' ? [event] : event;
    const found = (l: LogLine): boolean => l.event !== undefined && events.includes(l.event) && predicate(l);
    return until(events.join(' or '), () => this.logs.slice(from).find(found), timeoutMs, 50);
  }

  /** The log lines with this event, from index `from` on. */
  eventsOf(event: LogEventName, from = 0): LogLine[] {
    return this.logs.slice(from).filter((l) => l.event === event);
  }

  /** Resolves with the exit code once the process has ended. */
  async exited(timeoutMs = 15_000): Promise<number | null> {
    await until('controller exit', () => this.exitCode !== undefined, timeoutMs, 50);
    return this.exitCode ?? null;
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child!.kill(signal);
    return this.exited();
  }
}
