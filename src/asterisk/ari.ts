// ARI client: REST over fetch, events over one WebSocket that reconnects forever.
// We do not use ari-client: its reconnect gives up after about 43 s, it has no keepalive
// (a half-open socket looks healthy forever), and it builds its API at run time from
// Swagger, which leaves TypeScript blind. This file is small and typed instead.
//
// Domains call its named operations (`bridges.add`, `channels.play`, `recordings.pause` …),
// never request() with a path of their own: what a call does to Asterisk reads as what it
// means, and each operation's failures are in one place (the "IfPresent" clean-ups take any
// failure as done; the others throw with Asterisk's status). The ids passed in are ours,
// built by asterisk/ids.ts.
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';
import WebSocket from 'ws';

import { AriError, RexianError } from '../errors/index.js';
import { LogEvent } from '../events/log-events.js';
import type {
  AriBridge,
  AriChannel,
  AriConfigTuple,
  AriEvent,
  AriLiveRecording,
  AriPlayback,
  AsteriskInfo,
  AsteriskOperations,
  BridgeOperations,
  ChannelOperations,
  DialplanTarget,
  PlaybackOperations,
  RecordingOperations,
  RecordOptions,
} from './ari-types.js';
import { attemptAfterClose, backoffDelay } from './backoff.js';

// The shapes and operations live in ari-types.ts; importers keep importing them from here.
export type * from './ari-types.js';

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

type Query = Record<string, string | number | boolean | undefined>;

const enc = encodeURIComponent;

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
  private mayDrive: () => boolean = () => true;

  constructor(options: AriOptions) {
    super();
    this.options = {
      pingIntervalMs: 5_000,
      requestTimeoutMs: 10_000,
      maxBackoffMs: 5_000,
      stableAfterMs: 5_000,
      ...options,
    };
    this.options.url = this.options.url.replace(/\/+$/, '');
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * From now on a request is sent only while `mayDrive()` holds (src/ha/ari-lease.ts: a holder
   * whose lease ran out sends nothing, even what was queued before its fence fired).
   */
  guardBy(mayDrive: () => boolean): void {
    this.mayDrive = mayDrive;
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
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1_000).unref();
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
      this.options.logger.info(
        { event: LogEvent.ariConnected, ari: this.options.url, app: this.options.app },
        'ARI event socket connected',
      );
      this.setConnected(true);
    });
    socket.on('pong', () => {
      this.lastPong = Date.now();
    });
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
      if (this.openedAt > 0)
        this.attempt = attemptAfterClose(this.attempt, Date.now() - this.openedAt, this.options.stableAfterMs);
      this.openedAt = 0;
      if (this.isConnected) this.options.logger.warn({ event: LogEvent.ariClosed, code }, 'ARI event socket closed');
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
        this.options.logger.warn(
          { event: LogEvent.ariPingsUnanswered, silentMs: Date.now() - this.lastPong },
          'ARI event socket stopped answering pings; reconnecting',
        );
        socket.terminate();
        return;
      }
      try {
        socket.ping();
      } catch {
        /* close follows */
      }
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

  /** One REST call. Non-2xx answers throw an AriError (REXIAN_ASTERISK_FAILED) carrying Asterisk's status. */
  async request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    query: Query = {},
    body?: unknown,
  ): Promise<T> {
    if (!this.mayDrive())
      throw new AriError(method, path, 0, 'not sent: this controller no longer holds its ARI lease');
    const url = new URL(`${this.options.url}/ari${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: this.authHeader(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
    } catch (err) {
      throw new AriError(method, path, 0, (err as Error).message);
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* plain text */
      }
      throw new AriError(method, path, response.status, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A binary resource (a stored recording's file), as a response to stream on. */
  async download(path: string): Promise<Response> {
    const response = await fetch(`${this.options.url}/ari${path}`, {
      headers: { authorization: this.authHeader() },
      signal: AbortSignal.timeout(this.options.requestTimeoutMs * 6),
    }).catch((err: unknown) => {
      throw new AriError('GET', path, 0, (err as Error).message);
    });
    if (!response.ok) {
      throw new AriError('GET', path, response.status, '');
    }
    return response;
  }

  info(): Promise<AsteriskInfo> {
    return this.request<AsteriskInfo>('GET', '/asterisk/info');
  }

  // ---- named operations: what domains call instead of request() --------------------------

  /** Best effort: a failure is logged at debug and taken as done (see BridgeOperations). */
  private quietly(what: Promise<unknown>): Promise<void> {
    return what.then(
      () => undefined,
      (err: unknown) => {
        this.options.logger.debug({ err: (err as Error).message }, 'ARI clean-up request failed; taken as done');
      },
    );
  }

  readonly bridges: BridgeOperations = Object.assign(() => this.request<AriBridge[]>('GET', '/bridges'), {
    add: async (bridgeId: string, channelIds: string | string[], options: { role?: string } = {}): Promise<void> => {
      const channel = Array.isArray(channelIds) ? channelIds.join(',') : channelIds;
      await this.request('POST', `/bridges/${enc(bridgeId)}/addChannel`, { channel, role: options.role });
    },
    removeIfPresent: (bridgeId: string, channelId: string): Promise<void> =>
      this.quietly(this.request('POST', `/bridges/${enc(bridgeId)}/removeChannel`, { channel: channelId })),
    destroyIfPresent: (bridgeId: string): Promise<void> =>
      this.quietly(this.request('DELETE', `/bridges/${enc(bridgeId)}`)),
    startMusic: async (bridgeId: string, mohClass: string): Promise<void> => {
      await this.request('POST', `/bridges/${enc(bridgeId)}/moh`, { mohClass });
    },
    record: (bridgeId: string, options: RecordOptions): Promise<AriLiveRecording> =>
      this.request<AriLiveRecording>('POST', `/bridges/${enc(bridgeId)}/record`, { ...options }),
  });

  readonly channels: ChannelOperations = Object.assign(() => this.request<AriChannel[]>('GET', '/channels'), {
    get: (channelId: string): Promise<AriChannel> => this.request<AriChannel>('GET', `/channels/${enc(channelId)}`),
    answer: async (channelId: string): Promise<void> => {
      await this.request('POST', `/channels/${enc(channelId)}/answer`);
    },
    hangup: async (channelId: string, reason: 'normal' | 'busy' | 'congestion'): Promise<void> => {
      await this.request('DELETE', `/channels/${enc(channelId)}`, { reason });
    },
    play: (channelId: string, playbackId: string, media: string): Promise<AriPlayback> =>
      this.request<AriPlayback>('POST', `/channels/${enc(channelId)}/play/${enc(playbackId)}`, { media }),
    startMusic: async (channelId: string, mohClass: string): Promise<void> => {
      await this.request('POST', `/channels/${enc(channelId)}/moh`, { mohClass });
    },
    stopMusicIfPresent: (channelId: string): Promise<void> =>
      this.quietly(this.request('DELETE', `/channels/${enc(channelId)}/moh`)),
    mute: async (channelId: string, direction: 'in' | 'out' | 'both'): Promise<void> => {
      await this.request('POST', `/channels/${enc(channelId)}/mute`, { direction });
    },
    unmute: async (channelId: string, direction: 'in' | 'out' | 'both'): Promise<void> => {
      await this.request('DELETE', `/channels/${enc(channelId)}/mute`, { direction });
    },
    snoop: (
      channelId: string,
      snoopId: string,
      options: { spy: string; whisper: string; appArgs: string },
    ): Promise<AriChannel> =>
      this.request<AriChannel>('POST', `/channels/${enc(channelId)}/snoop/${enc(snoopId)}`, {
        app: this.options.app,
        appArgs: options.appArgs,
        spy: options.spy,
        whisper: options.whisper,
      }),
    record: (channelId: string, options: RecordOptions): Promise<AriLiveRecording> =>
      this.request<AriLiveRecording>('POST', `/channels/${enc(channelId)}/record`, { ...options }),
    continueInDialplan: async (channelId: string, target: DialplanTarget): Promise<void> => {
      await this.request('POST', `/channels/${enc(channelId)}/continue`, {
        context: target.context,
        extension: target.extension,
        priority: target.priority ?? 1,
      });
    },
  });

  readonly playbacks: PlaybackOperations = {
    get: (playbackId) => this.request<AriPlayback>('GET', `/playbacks/${enc(playbackId)}`),
    stopIfPresent: (playbackId) => this.quietly(this.request('DELETE', `/playbacks/${enc(playbackId)}`)),
  };

  readonly recordings: RecordingOperations = {
    live: (name) => this.request<AriLiveRecording>('GET', `/recordings/live/${enc(name)}`),
    pause: async (name) => {
      await this.request('POST', `/recordings/live/${enc(name)}/pause`);
    },
    unpause: async (name) => {
      await this.request('DELETE', `/recordings/live/${enc(name)}/pause`);
    },
    deleteStored: async (name) => {
      await this.request('DELETE', `/recordings/stored/${enc(name)}`);
    },
  };

  readonly asterisk: AsteriskOperations = {
    pushConfig: (configClass, objectType, id, fields) =>
      this.request<AriConfigTuple[]>(
        'PUT',
        `/asterisk/config/dynamic/${enc(configClass)}/${enc(objectType)}/${enc(id)}`,
        {},
        { fields },
      ),
    deleteConfigIfPresent: (configClass, objectType, id) =>
      this.quietly(
        this.request('DELETE', `/asterisk/config/dynamic/${enc(configClass)}/${enc(objectType)}/${enc(id)}`),
      ),
  };

  /** Hangs up a channel of ours; one already gone is fine (hang-ups race with the far end). */
  hangupChannel(channelId: string): Promise<void> {
    return this.quietly(this.request('DELETE', `/channels/${enc(channelId)}`));
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
  async originate(params: {
    channelId: string;
    endpoint: string;
    callerId?: string;
    timeout?: number;
    appArgs?: string;
    variables?: Record<string, string>;
  }): Promise<AriChannel> {
    try {
      return await this.request<AriChannel>(
        'POST',
        `/channels/${encodeURIComponent(params.channelId)}`,
        {
          endpoint: params.endpoint,
          app: this.options.app,
          appArgs: params.appArgs,
          callerId: params.callerId,
          timeout: params.timeout,
        },
        params.variables ? { variables: params.variables } : undefined,
      );
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
