// The event-stream client (/api/events): one WebSocket, authenticated by the session cookie
// the browser sends with the handshake, reconnecting by itself with backoff (0.5 s doubling
// to 10 s). The pages subscribe to typed events; `status` says whether the stream is live.
// The events' types are the controller's own catalogue (src/events/catalogue.ts, re-exported
// by ./types.ts), so a page reads exactly the fields the stream sends. The page's one open
// stream (PageShell opens it) is `liveStream`, so the parts of a page subscribe to the same
// socket the header's status describes instead of opening their own.
import { ref, type Ref, shallowRef } from 'vue';
import type { MessageOf, StreamMessage } from './types';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** What the stream sends: a published event (stamped with `at`), or the stream's hello and error. */
export type StreamEvent = StreamMessage;

/** The page's open stream, if any: set by open(), cleared by close() (see PageShell.vue). */
export const liveStream = shallowRef<EventStream>();

export class EventStream {
  readonly status: Ref<StreamStatus> = ref('connecting');
  private socket: WebSocket | undefined;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly listeners = new Set<(event: StreamEvent) => void>();

  constructor(
    private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`,
  ) {}

  open(): this {
    this.closed = false;
    this.connect();
    liveStream.value = this;
    return this;
  }

  on(listener: (event: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens to one type of event, e.g. `stream.onType('agent.offer', (pop) => …)`. */
  onType<T extends StreamEvent['type']>(type: T, listener: (event: MessageOf<T>) => void): () => void {
    return this.on((event) => {
      if (event.type === type) listener(event as MessageOf<T>);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.status.value = 'closed';
    if (liveStream.value === this) liveStream.value = undefined;
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
