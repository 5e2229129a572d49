// The event stream (/api/events): a WebSocket that wallboards, supervisors and agent
// desktops read. The token is checked at the handshake (Authorization header, or ?token=
// for browsers, which cannot set headers on a WebSocket), and so is the Origin: a page on
// another site cannot ride a logged-in browser's connection. A masked call's number leaves
// this stream masked whatever a domain put in the event (src/calls/privacy.ts). What it
// sends is the event catalogue (src/events/catalogue.ts), published through the notifier.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';

import { maskNumber } from '../calls/privacy.js';
import type { RexianEvent, StreamError, StreamHello } from '../events/catalogue.js';
import { type Authenticator, mayActForAgent, type Principal } from './auth.js';

export interface EventHub {
  publish(event: RexianEvent): void;
  readonly clients: number;
  close(): void;
}

export interface EventStreamOptions {
  authn: Authenticator;
  allowedOrigins: string[];
  /** The team of an agent, for supervisors' filters. */
  teamOf: (agentId: string) => string | undefined;
}

/** Which events a principal receives: agents their own, supervisors their teams', ops and admins all. */
export function visibleTo(
  principal: Principal,
  event: { readonly type: string; readonly agentId?: string; readonly subjectAgent?: string },
  teamOf: (agentId: string) => string | undefined,
): boolean {
  const agentId = typeof event.agentId === 'string' ? event.agentId : undefined;
  if (principal.role === 'admin' || principal.role === 'ops') return true;
  if (principal.role === 'agent') return agentId !== undefined && agentId === principal.agentId;
  // An alert about one agent (not ready too long) goes to that agent's team's supervisors only.
  const about = agentId ?? (typeof event.subjectAgent === 'string' ? event.subjectAgent : undefined);
  return about === undefined || mayActForAgent(principal, about, teamOf(about));
}

/** Fields of an event that may hold a citizen's number. */
const NUMBER_FIELDS = ['caller', 'callback', 'callbackNumber'] as const;

/**
 * The event as the stream sends it: an event of a masked call (a screen pop with
 * `callerMasked`, or one marked `masked`) carries only masked numbers, even if the domain
 * that published it forgot to mask one.
 */
export function forStream<E extends object>(event: E): E {
  const fields = event as Record<string, unknown>;
  if (fields.callerMasked !== true && fields.masked !== true) return event;
  const out: Record<string, unknown> = { ...fields };
  for (const f of NUMBER_FIELDS) if (typeof out[f] === 'string') out[f] = maskNumber(out[f] as string);
  return out as E;
}

export function registerEventStream(app: FastifyInstance, options: EventStreamOptions): EventHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Map<WebSocket, Principal>();
  const reject = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  app.server.on(
    'upgrade',
    (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname !== '/api/events') return reject(socket, 404, 'Not Found');
        // A static token, or a person's session (bearer, ?token= or the pages' session cookie).
        const token = url.searchParams.get('token');
        const found = await options.authn
          .authenticate(
            token && !req.headers.authorization ? { ...req.headers, authorization: `Bearer ${token}` } : req.headers,
          )
          .catch(() => undefined);
        const principal = typeof found === 'object' ? found : undefined;
        if (!principal || socket.destroyed) return reject(socket, 401, 'Unauthorized');
        const origin = req.headers.origin;
        // The controller's own pages are same-origin: their Origin is the Host they were served from.
        const sameOrigin = origin !== undefined && URL.canParse(origin) && new URL(origin).host === req.headers.host;
        if (origin !== undefined && !sameOrigin && !options.allowedOrigins.includes(origin))
          return reject(socket, 403, 'Forbidden');
        wss.handleUpgrade(req, socket, head, (ws) => {
          sockets.set(ws, principal);
          // Nothing is accepted from clients yet; commands, when they come, are authorized one by one.
          ws.on('message', () =>
            ws.send(
              JSON.stringify({
                type: 'error',
                error: { code: 'REXIAN_BAD_REQUEST', message: 'this stream takes no commands; use the REST API' },
              } satisfies StreamError),
            ),
          );
          ws.on('close', () => sockets.delete(ws));
          ws.on('error', () => sockets.delete(ws));
          ws.send(
            JSON.stringify({
              type: 'hello',
              as: { name: principal.name, role: principal.role },
              at: new Date().toISOString(),
            } satisfies StreamHello),
          );
        });
      })(),
  );
  return {
    publish(event) {
      if (sockets.size === 0) return;
      const text = JSON.stringify({ ...forStream(event), at: new Date().toISOString() });
      for (const [ws, principal] of sockets)
        if (ws.readyState === ws.OPEN && visibleTo(principal, event, options.teamOf)) ws.send(text);
    },
    get clients() {
      return sockets.size;
    },
    close() {
      for (const ws of sockets.keys()) ws.terminate();
      wss.close();
    },
  };
}
