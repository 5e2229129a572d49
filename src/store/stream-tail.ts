// Tails one Redis stream on a connection of its own and hands each new entry to a callback,
// in order: what the agent-state feed (src/acd/agent-state-feed.ts) and the alert feed
// (src/alerts/feed.ts) share. It starts at the stream's end (a restart does not replay the
// day); after a lost connection it goes on from the last entry handed over, so nothing is
// lost or told twice; it retries with backoff (0.25 s doubling to 5 s), says so once, and
// never stops until stop(). The connection is named, so CLIENT LIST shows who holds the
// blocking read (and a test can cut it).
import type { Logger } from 'pino';

import type { Redis } from './redis.js';

export interface StreamTailOptions {
  redis: Redis;
  key: string;
  /** The connection's name in CLIENT LIST. */
  connectionName: string;
  logger: Logger;
  /** What the entries are, for the logs ("agent changes", "alerts"). */
  what: string;
  /** What a reader waiting for them is told while Redis is away. */
  whileAway: string;
  /** How long one blocking read waits for an entry (ms); stop() does not wait for it. */
  blockMs?: number;
  count?: number;
  onEntry(fields: string[], reader: Redis): Promise<void> | void;
}

type XReadReply = Array<[string, Array<[string, string[]]>]> | null;

export class StreamTail {
  private stopped = true;
  private reader: Redis | undefined;
  private loop: Promise<void> | undefined;
  /** The last entry handed over; undefined until the stream's end has been read. */
  private lastId: string | undefined;

  constructor(private readonly options: StreamTailOptions) {}

  /** Starts tailing; returns at once (Redis may be down: the tail waits for it). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastId = undefined;
    this.reader = this.options.redis.duplicate({ connectionName: this.options.connectionName });
    // Connection trouble is the loop's to report, once; ioredis would print each error otherwise.
    this.reader.on('error', (err: Error) =>
      this.options.logger.debug({ err: err.message }, `${this.options.connectionName}: Redis error`),
    );
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reader?.disconnect();
    await this.loop?.catch(() => undefined);
    this.reader = undefined;
  }

  private async run(): Promise<void> {
    const { key, logger, what } = this.options;
    let backoff = 250;
    let failing = false;
    while (!this.stopped) {
      try {
        if (this.lastId === undefined) {
          const last = await this.reader!.xrevrange(key, '+', '-', 'COUNT', 1);
          // No stream yet (a first start, or Redis lost its data): every entry to come is new.
          this.lastId = last[0]?.[0] ?? '0-0';
        }
        const reply = (await this.reader!.xread(
          'COUNT',
          this.options.count ?? 500,
          'BLOCK',
          this.options.blockMs ?? 5_000,
          'STREAMS',
          key,
          this.lastId,
        )) as XReadReply;
        if (failing) logger.info({ stream: key }, `reading ${what} again`);
        failing = false;
        backoff = 250;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          this.lastId = id;
          await this.options.onEntry(fields, this.reader!);
        }
      } catch (err) {
        if (this.stopped) return;
        if (!failing)
          logger.warn(
            { err: (err as Error).message, stream: key, retryInMs: backoff },
            `cannot read ${what} from Redis; ${this.options.whileAway}`,
          );
        failing = true;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }
}
