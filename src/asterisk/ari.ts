// ARI client: REST over fetch, events over one WebSocket that reconnects forever.
// We do not use ari-client: its reconnect gives up after about 43 s, it has no keepalive
// (a half-open socket looks healthy forever), and it builds its API at run time from
// Swagger, which leaves TypeScript blind. This file is small and typed instead.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { RexianError } from '../errors/index.js';
import { attemptAfterClose, backoffDelay } from './backoff.js';

export interface AriOptions {
  url: string;
  username: string;
  password: string;
  app: string;
  logger: Logger;
  /** How often to ping Asterisk; two unanswered pings mark the socket dead. */
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
  maxBackoffMs?: number;
  /** A connection up for less than this counts as failed: the backoff goes on growing. */
  stableAfterMs?: number;
}

export interface AriEvent {
  type: string;
  application?: string;
  timestamp?: string;
  channel?: AriChannel;
  playback?: { id: string; target_uri: string; state: string; media_uri: string };
  bridge?: { id: string };
  digit?: string;
  [key: string]: unknown;
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
  creationtime: string;
  channelvars?: Record<string, string>;
}

/** A bridge as GET /bridges lists it: its members are channel ids. */
export interface AriBridge {
  id: string;
  bridge_type: string;
  technology?: string;
  name?: string;
  channels: string[];
  creationtime?: string;
}

export interface AsteriskInfo {
  system: { version: string; entity_id: string };
  status: { startup_time: string; last_reload_time: string };
  config: { name: string };
}

type Query = Record<string, string | number | boolean | undefined>;

export class AriClient extends EventEmitter {
  private readonly options: Required<Omit<AriOptions, 'logger'>> & { logger: Logger };
  private socket: WebSocket | undefined;
  private stopped = true;
  private attempt = 0;
  private openedAt = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastPong = 0;
  private isConnected = false;

  constructor(options: AriOptions) {
    super();
    this.options = { pingIntervalMs: 5_000, requestTimeoutMs: 10_000, maxBackoffMs: 5_000, stableAfterMs: 5_000, ...options };
    this.options.url = this.options.url.replace(/\/+$/, '');
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get app(): string {
    return this.options.app;
  }

  /** Starts connecting; never gives up until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the event socket. Channels stay in Asterisk (and in our Stasis app). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'controller shutting down');
        setTimeout(() => { socket.terminate(); resolve(); }, 1_000).unref();
      });
    }
    this.setConnected(false);
  }

  private connect(): void {
    if (this.stopped) return;
    const wsUrl = `${this.options.url.replace(/^http/, 'ws')}/ari/events?app=${encodeURIComponent(this.options.app)}&subscribeAll=false`;
    const socket = new WebSocket(wsUrl, { headers: { authorization: this.authHeader() }, handshakeTimeout: 5_000 });
    this.socket = socket;
    socket.on('open', () => {
      // The backoff is not reset here: a socket that opens and drops at once would otherwise
      // reconnect in a tight loop. It resets once the connection has proved stable (on close).
      this.openedAt = Date.now();
      this.lastPong = Date.now();
      this.startKeepalive(socket);
      this.options.logger.info({ ari: this.options.url, app: this.options.app }, 'ARI event socket connected');
      this.setConnected(true);
    });
    socket.on('pong', () => { this.lastPong = Date.now(); });
    socket.on('message', (data) => {
      let event: AriEvent;
      try {
        event = JSON.parse(data.toString()) as AriEvent;
      } catch (err) {
        this.options.logger.warn({ err }, 'ARI sent an event that is not JSON');
        return;
      }
      this.emit('event', event);
    });
    socket.on('error', (err) => {
      this.options.logger.debug({ err: err.message }, 'ARI event socket error');
    });
    socket.on('close', (code) => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      this.socket = undefined;
      if (this.openedAt > 0) this.attempt = attemptAfterClose(this.attempt, Date.now() - this.openedAt, this.options.stableAfterMs);
      this.openedAt = 0;
      if (this.isConnected) this.options.logger.warn({ code }, 'ARI event socket closed');
      this.setConnected(false);
      this.scheduleReconnect();
    });
  }

  private startKeepalive(socket: WebSocket): void {
    clearInterval(this.pingTimer);
    const interval = this.options.pingIntervalMs;
    this.pingTimer = setInterval(() => {
      // A half-open TCP connection (Asterisk host gone, cable pulled) never closes by itself.
      if (Date.now() - this.lastPong > interval * 2 + 500) {
        this.options.logger.warn({ silentMs: Date.now() - this.lastPong }, 'ARI event socket stopped answering pings; reconnecting');
        socket.terminate();
        return;
      }
      try { socket.ping(); } catch { /* close follows */ }
    }, interval);
    this.pingTimer.unref();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, { baseMs: 200, maxMs: this.options.maxBackoffMs });
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private setConnected(value: boolean): void {
    if (this.isConnected === value) return;
    this.isConnected = value;
    this.emit(value ? 'connected' : 'disconnected');
  }

  private authHeader(): string {
    return `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString('base64')}`;
  }

  /** One REST call. Non-2xx answers throw REXIAN_ARI_REQUEST_FAILED carrying the status. */
  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, query: Query = {}, body?: unknown): Promise<T> {
    const url = new URL(`${this.options.url}/ari${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: this.authHeader(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
    } catch (err) {
      throw new RexianError('REXIAN_ARI_REQUEST_FAILED', `${method} ${path}: ${(err as Error).message}`, { method, path, status: 0 }, 503);
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try { message = (JSON.parse(text) as { message?: string }).message ?? text; } catch { /* plain text */ }
      throw new RexianError('REXIAN_ARI_REQUEST_FAILED', `${method} ${path} answered ${response.status}: ${message}`, { method, path, status: response.status }, response.status >= 500 ? 502 : response.status);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A binary resource (a stored recording's file), as a response to stream on. */
  async download(path: string): Promise<Response> {
    const response = await fetch(`${this.options.url}/ari${path}`, {
      headers: { authorization: this.authHeader() }, signal: AbortSignal.timeout(this.options.requestTimeoutMs * 6),
    }).catch((err: unknown) => {
      throw new RexianError('REXIAN_ARI_REQUEST_FAILED', `GET ${path}: ${(err as Error).message}`, { method: 'GET', path, status: 0 }, 503);
    });
    if (!response.ok) {
      throw new RexianError('REXIAN_ARI_REQUEST_FAILED', `GET ${path} answered ${response.status}`, { method: 'GET', path, status: response.status }, response.status >= 500 ? 502 : response.status);
    }
    return response;
  }

  info(): Promise<AsteriskInfo> {
    return this.request<AsteriskInfo>('GET', '/asterisk/info');
  }

  channels(): Promise<AriChannel[]> {
    return this.request<AriChannel[]>('GET', '/channels');
  }

  bridges(): Promise<AriBridge[]> {
    return this.request<AriBridge[]>('GET', '/bridges');
  }

  /** Hangs up a channel of ours; one already gone is fine (hang-ups race with the far end). */
  async hangupChannel(channelId: string): Promise<void> {
    await this.request('DELETE', `/channels/${encodeURIComponent(channelId)}`).catch(() => undefined);
  }

  /** Creates a bridge with our id; one that exists already (409) is fine. */
  async ensureBridge(bridgeId: string, type: string, name: string): Promise<void> {
    try {
      await this.request('POST', `/bridges/${encodeURIComponent(bridgeId)}`, { type, name });
    } catch (err) {
      if (!(err instanceof RexianError && err.details.status === 409)) throw err;
    }
  }

  /**
   * Originates with a channel id we chose, so a retry after a timeout cannot ring twice:
   * Asterisk answers 409 for a reused id, which we take as "already placed".
   */
  async originate(params: { channelId: string; endpoint: string; callerId?: string; timeout?: number; appArgs?: string; variables?: Record<string, string> }): Promise<AriChannel> {
    try {
      return await this.request<AriChannel>('POST', `/channels/${encodeURIComponent(params.channelId)}`, {
        endpoint: params.endpoint,
        app: this.options.app,
        appArgs: params.appArgs,
        callerId: params.callerId,
        timeout: params.timeout,
      }, params.variables ? { variables: params.variables } : undefined);
    } catch (err) {
      if (err instanceof RexianError && err.details.status === 409) {
        return this.request<AriChannel>('GET', `/channels/${encodeURIComponent(params.channelId)}`);
      }
      throw err;
    }
  }
}

/** Whether a channel sits in our Stasis application (per its current dialplan location). */
export function isInApp(channel: AriChannel, app: string): boolean {
  const d = channel.dialplan;
  if (d.app_name !== 'Stasis' || d.app_data === undefined) return false;
  return d.app_data === app || d.app_data.startsWith(`${app},`);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof RexianError && err.details.status === 404;
}
