// The event stream (/api/events): a WebSocket that wallboards, supervisors and agent
// desktops read. The token is checked at the handshake (Authorization header, or ?token=
// for browsers, which cannot set headers on a WebSocket), and so is the Origin: a page on
// another site cannot ride a logged-in browser's connection.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { sameToken } from './auth.js';

export interface EventHub {
  publish(event: Record<string, unknown>): void;
  readonly clients: number;
  close(): void;
}

export function registerEventStream(app: FastifyInstance, options: { adminToken?: string; allowedOrigins: string[] }): EventHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  const reject = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/events') return reject(socket, 404, 'Not Found');
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token') ?? '';
    if (!options.adminToken || !sameToken(token, options.adminToken)) return reject(socket, 401, 'Unauthorized');
    const origin = req.headers.origin;
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'hello', at: new Date().toISOString() }));
    });
  });
  return {
    publish(event) {
      if (sockets.size === 0) return;
      const text = JSON.stringify({ ...event, at: new Date().toISOString() });
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    get clients() {
      return sockets.size;
    },
    close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
    },
  };
}

