// A client of the controller's event stream (/api/events), collecting what it is sent.
import { WebSocket } from 'ws';

export interface EventStream {
  ws?: WebSocket;
  /** Set when the handshake was refused. */
  status?: number;
  messages: Array<Record<string, unknown>>;
  close(): void;
}

export function openEventStream(port: number, headers: Record<string, string>): Promise<EventStream> {
  const messages: Array<Record<string, unknown>> = [];
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events`, { headers });
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    ws.on('open', () => resolve({ ws, messages, close: () => ws.close() }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode, messages, close: () => undefined }));
    ws.on('error', () => undefined);
  });
}
