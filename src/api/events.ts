// The event stream (/api/events): a WebSocket that wallboards, supervisors and agent
// desktops read. The token is checked at the handshake (Authorization header, or ?token=
// for browsers, which cannot set headers on a WebSocket), and so is the Origin: a page on
// another site cannot ride a logged-in browser's connection.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { mayActForAgent, type Authenticator, type Principal } from './auth.js';

export interface EventHub {
  publish(event: Record<string, unknown>): void;
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
export function visibleTo(principal: Principal, event: Record<string, unknown>, teamOf: (agentId: string) => string | undefined): boolean {
  const agentId = typeof event.agentId === 'string' ? event.agentId : undefined;
  if (principal.role === 'admin' || principal.role === 'ops') return true;
  if (principal.role === 'agent') return agentId !== undefined && agentId === principal.agentId;
  return agentId === undefined || mayActForAgent(principal, agentId, teamOf(agentId));
}

export function registerEventStream(app: FastifyInstance, options: EventStreamOptions): EventHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Map<WebSocket, Principal>();
  const reject = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/events') return reject(socket, 404, 'Not Found');
    const principal = req.headers.authorization
      ? options.authn.fromHeader(req.headers.authorization)
      : options.authn.identify(url.searchParams.get('token') ?? '');
    if (!principal) return reject(socket, 401, 'Unauthorized');
    const origin = req.headers.origin;
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(ws, principal);
      // Nothing is accepted from clients yet; commands, when they come, are authorized one by one.
      ws.on('message', () => ws.send(JSON.stringify({ type: 'error', error: { code: 'REXIAN_BAD_REQUEST', message: 'this stream takes no commands; use the REST API' } })));
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'hello', as: { name: principal.name, role: principal.role }, at: new Date().toISOString() }));
    });
  });
  return {
    publish(event) {
      if (sockets.size === 0) return;
      const text = JSON.stringify({ ...event, at: new Date().toISOString() });
      for (const [ws, principal] of sockets) if (ws.readyState === ws.OPEN && visibleTo(principal, event, options.teamOf)) ws.send(text);
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

