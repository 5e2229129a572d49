// The controller's side of the edge's seat listener (route[SEAT_RPC] in
// sip-config/kamailio.cfg.tmpl): a seat made while the edge runs (an agent added through the
// API, a supervisor's browser seat on first use) gets its password into the running edge at
// once, and a removed agent loses it. The edge's own start reads every seat from Redis too
// (src/cli/edge.ts), so an update the edge missed while it was down is not lost.
import { createHmac } from 'node:crypto';

import type { Logger } from 'pino';

import type { Config } from '../config/index.js';
import { LogEvent } from '../events/log-events.js';
import { type EdgeSeatRpc, uriHost } from './render.js';

/** config.edge.rpcPort and config.edge.controllers when not set. */
export const edgeSeatDefaults = { rpcPort: 8061, controllers: ['127.0.0.1'] } as const;

/** The seat listener's token: derived from acd.agentSipSecret, so the edge and the controllers agree. */
export function edgeSeatToken(masterSecret: string): string {
  return createHmac('sha256', masterSecret).update('edge-seat-rpc').digest('base64url').slice(0, 32);
}

/** The edge's seat listener as `rexian edge` renders it. */
export function edgeSeatRpc(edge: NonNullable<Config['edge']>, masterSecret: string): EdgeSeatRpc {
  return {
    port: edge.rpcPort ?? edgeSeatDefaults.rpcPort,
    token: edgeSeatToken(masterSecret),
    controllers: edge.controllers ?? [...edgeSeatDefaults.controllers],
  };
}

/** The SIP edge as a seat's maker needs it: where phones register, and its running password table. */
export interface SeatEdge {
  host: string;
  port: number;
  /** None without acd.agentSipSecret, which the listener's token derives from. */
  seats?: EdgeSeatClient;
}

/** The edge for the controllers' seats; none without config.edge (phones register at a node). */
export function seatEdgeFor(config: Config, logger: Logger): SeatEdge | undefined {
  const edge = config.edge;
  if (!edge) return undefined;
  const secret = config.acd.agentSipSecret;
  return {
    host: edge.host,
    port: edge.port,
    seats: secret
      ? new EdgeSeatClient(
          { host: edge.host, rpcPort: edge.rpcPort ?? edgeSeatDefaults.rpcPort },
          edgeSeatToken(secret),
          logger,
        )
      : undefined,
  };
}

export interface EdgeSeatTarget {
  host: string;
  rpcPort: number;
}

type SeatChange = { what: 'set'; password: string } | { what: 'remove' };

export class EdgeSeatClient {
  private seq = 0;
  /** Changes the edge has not taken yet, the newest per seat, tried again every retryMs. */
  private readonly pending = new Map<string, SeatChange>();
  private retrying: NodeJS.Timeout | undefined;
  private retryRound = false;
  private turn: Promise<boolean> = Promise.resolve(true);

  constructor(
    private readonly edge: EdgeSeatTarget,
    private readonly token: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 2_000,
    private readonly retryMs = 5_000,
  ) {}

  /** Seats whose change the edge has not taken yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Stops trying the waiting changes again (the edge reads them from Redis when it starts). */
  close(): void {
    clearInterval(this.retrying);
    this.retrying = undefined;
  }

  /** Sets a seat's password (`agent-<id>` or `sup-<name>`) in the running edge. */
  async set(user: string, password: string): Promise<void> {
    await this.call('htable.sets', ['agents', user, password]);
  }

  async remove(user: string): Promise<void> {
    await this.call('htable.delete', ['agents', user]);
  }

  /**
   * Never throws. A change the edge did not take is kept (the newest per seat) and tried again
   * every retryMs until it does, so an edge out of reach for a moment catches up; while it is
   * not taking changes, new ones wait with them rather than each waiting out a timeout. Changes
   * go one at a time, so a seat's removal cannot overtake its older set. An edge that restarts
   * reads every seat from Redis anyway.
   */
  async tell(what: 'set' | 'remove', user: string, password = ''): Promise<boolean> {
    const change: SeatChange = what === 'set' ? { what, password } : { what };
    this.pending.set(user, change);
    if (this.retrying) {
      this.logger.warn(
        { event: LogEvent.edgeSeatNotUpdated, user, change: what, waiting: this.pending.size },
        'the SIP edge is not taking seats yet; this one waits with the others',
      );
      return false;
    }
    return this.inTurn(() => this.flush(user, change, true));
  }

  private inTurn(job: () => Promise<boolean>): Promise<boolean> {
    const run = this.turn.then(job);
    this.turn = run.catch(() => false);
    return run;
  }

  /** Sends a waiting change unless a newer one of the same seat took its place. */
  private async flush(user: string, change: SeatChange, first: boolean): Promise<boolean> {
    if (this.pending.get(user) !== change) return true; // the newer one is sent in its turn
    if (!(await this.send(user, change, first))) {
      this.retrying ??= setInterval(() => void this.retry(), this.retryMs).unref();
      return false;
    }
    if (this.pending.get(user) === change) this.pending.delete(user);
    return true;
  }

  private async retry(): Promise<void> {
    if (this.retryRound) return;
    this.retryRound = true;
    try {
      for (const [user, change] of [...this.pending]) {
        if (!(await this.inTurn(() => this.flush(user, change, false)))) return; // still out of reach
      }
      if (this.pending.size === 0) this.close();
    } finally {
      this.retryRound = false;
    }
  }

  private async send(user: string, change: SeatChange, first: boolean): Promise<boolean> {
    try {
      if (change.what === 'set') await this.set(user, change.password);
      else await this.remove(user);
      this.logger.info(
        { event: LogEvent.edgeSeatUpdated, user, change: change.what, ...(first ? {} : { retried: true }) },
        'seat updated at the SIP edge',
      );
      return true;
    } catch (err) {
      // Once per change, not once per retry: an edge down for an hour is one line per seat.
      if (first)
        this.logger.warn(
          { event: LogEvent.edgeSeatNotUpdated, user, change: change.what, err: (err as Error).message },
          'the SIP edge did not take the seat; trying again until it does (it reads it from Redis when it starts)',
        );
      return false;
    }
  }

  private async call(method: string, params: string[]): Promise<void> {
    const url = `http://${uriHost(this.edge.host)}:${this.edge.rpcPort}/seats`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: ++this.seq }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`edge ${url} answered ${res.status} ${res.statusText}`);
    let body: { error?: { message?: string } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`edge ${url} answered with no JSON-RPC reply: ${text.slice(0, 120)}`);
    }
    // htable.delete of a key the table does not hold is no failure: the seat is gone either way.
    if (body.error && !(method === 'htable.delete' && /not found|no such/i.test(body.error.message ?? '')))
      throw new Error(`edge ${method} failed: ${body.error.message ?? JSON.stringify(body.error)}`);
  }
}
