// AMI connection that never gives up: asterisk-manager speaks the protocol; we own the
// reconnects (its keepConnected adds 10 s per try without a cap) and detect a dead peer
// with a Ping action, since a half-open TCP socket never closes by itself.
import { EventEmitter } from 'node:events';

import AsteriskManager from 'asterisk-manager';
import type { Logger } from 'pino';

import { RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';

export interface AmiOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  logger: Logger;
  pingIntervalMs?: number;
  maxBackoffMs?: number;
}

type Manager = ReturnType<typeof AsteriskManager>;

export class AmiClient extends EventEmitter {
  private manager: Manager | undefined;
  private stopped = true;
  private attempt = 0;
  private isReady = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly pingIntervalMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: AmiOptions) {
    super();
    this.pingIntervalMs = options.pingIntervalMs ?? 5_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  get connected(): boolean {
    return this.isReady;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const manager = this.manager;
    this.manager = undefined;
    manager?.removeAllListeners();
    manager?.on('error', () => {});
    manager?.disconnect();
    this.setReady(false);
  }

  private connect(): void {
    if (this.stopped) return;
    const { host, port, logger } = this.options;
    const manager = AsteriskManager(undefined, host, this.options.username, this.options.password, true);
    this.manager = manager;
    let settled = false;
    const fail = (why: string): void => {
      if (this.manager !== manager) return;
      if (settled && !this.isReady) return;
      settled = true;
      clearInterval(this.pingTimer);
      manager.removeAllListeners();
      manager.on('error', () => {});
      manager.disconnect();
      this.manager = undefined;
      if (this.isReady) logger.warn({ event: LogEvent.amiLost, why }, 'AMI connection lost');
      this.setReady(false);
      this.scheduleReconnect();
    };
    manager.on('error', (err: Error) => logger.debug({ err: err.message }, 'AMI socket error'));
    manager.on('close', () => fail('closed'));
    manager.on('end', () => fail('ended'));
    manager.on('managerevent', (event: Record<string, string>) => this.emit('event', event));
    manager.connect(port, host, (err) => {
      if (err) return fail(err.message);
      manager.login((loginErr) => {
        if (this.manager !== manager) return;
        if (loginErr) {
          logger.error({ host, port }, 'AMI login refused: check ami.username and ami.password');
          return fail('login refused');
        }
        settled = true;
        this.attempt = 0;
        logger.info({ host, port }, 'AMI connected');
        this.setReady(true);
        this.startKeepalive(manager, fail);
      });
    });
  }

  private startKeepalive(manager: Manager, fail: (why: string) => void): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const timer = setTimeout(() => fail('ping unanswered'), this.pingIntervalMs);
      manager.action({ action: 'Ping' }, () => clearTimeout(timer));
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const base = Math.min(this.maxBackoffMs, 200 * 2 ** this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), Math.round(base / 2 + Math.random() * (base / 2)));
  }

  private setReady(value: boolean): void {
    if (this.isReady === value) return;
    this.isReady = value;
    this.emit(value ? 'connected' : 'disconnected');
  }

  /** Sends one action; rejects when not connected or when Asterisk answers Error. */
  action(action: Record<string, string>): Promise<Record<string, string>> {
    const manager = this.manager;
    if (!manager || !this.isReady) {
      return Promise.reject(
        new RexianError(
          'REXIAN_ASTERISK_UNAVAILABLE',
          { action: action.action },
          `AMI is not connected; cannot send ${action.action}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      manager.action(action, (err, res) =>
        err
          ? reject(
              new RexianError(
                'REXIAN_ASTERISK_FAILED',
                { action: action.action },
                `AMI ${action.action} failed: ${JSON.stringify(err)}`,
              ),
            )
          : resolve(res),
      );
    });
  }
}
