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

/** The controller's client of it; none without an edge or without the secret the token derives from. */
export function edgeSeatClientFor(config: Config, logger: Logger): EdgeSeatClient | undefined {
  const secret = config.acd.agentSipSecret;
  if (!config.edge || !secret) return undefined;
  return new EdgeSeatClient(
    { host: config.edge.host, rpcPort: config.edge.rpcPort ?? edgeSeatDefaults.rpcPort },
    edgeSeatToken(secret),
    logger,
  );
}

export interface EdgeSeatTarget {
  host: string;
  rpcPort: number;
}

export class EdgeSeatClient {
  private seq = 0;

  constructor(
    private readonly edge: EdgeSeatTarget,
    private readonly token: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 2_000,
  ) {}

  /** Sets a seat's password (`agent-<id>` or `sup-<name>`) in the running edge. */
  async set(user: string, password: string): Promise<void> {
    await this.call('htable.sets', ['agents', user, password]);
  }

  async remove(user: string): Promise<void> {
    await this.call('htable.delete', ['agents', user]);
  }

  /**
   * Never throws: a seat the edge did not get is logged, and the edge's next start reads it
   * from Redis. A seat's own node push is what must succeed; the edge is the second copy.
   */
  async tell(what: 'set' | 'remove', user: string, password = ''): Promise<boolean> {
    try {
      if (what === 'set') await this.set(user, password);
      else await this.remove(user);
      this.logger.info({ event: LogEvent.edgeSeatUpdated, user, change: what }, 'seat updated at the SIP edge');
      return true;
    } catch (err) {
      this.logger.warn(
        { event: LogEvent.edgeSeatNotUpdated, user, change: what, err: (err as Error).message },
        'the SIP edge did not take the seat; it reads it from Redis when it starts again',
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
