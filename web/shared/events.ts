// The event-stream client (/api/events): one WebSocket, authenticated by the session cookie
// the browser sends with the handshake, reconnecting by itself with backoff (0.5 s doubling
// to 10 s). The pages subscribe to typed events; `status` says whether the stream is live.
import { ref, type Ref } from 'vue';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface StreamEvent {
  type: string;
  at?: string;
  [field: string]: unknown;
}

export class EventStream {
  readonly status: Ref<StreamStatus> = ref('connecting');
  private socket: WebSocket | undefined;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly listeners = new Set<(event: StreamEvent) => void>();

  constructor(private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`) {}

  open(): this {
    this.closed = false;
    this.connect();
    return this;
  }

  on(listener: (event: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.status.value = 'closed';
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.status.value = 'live';
    };
    ws.onmessage = (message) => {
      let event: StreamEvent;
      try {
        event = JSON.parse(String(message.data)) as StreamEvent;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(event);
    };
    ws.onclose = () => {
      if (this.closed) return;
      this.status.value = 'reconnecting';
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }
}
