// Every alert event, whichever controller fired, cleared or acknowledged it, onto this
// controller's event stream: tails `<prefix>:alerts:events` (./store.ts appends to it in the
// same script that changes the active alerts) on a connection of its own, as the agent-state
// feed does for agent changes (src/acd/agent-state-feed.ts). Starts at the stream's end; after
// a lost connection goes on from the last entry told; never stops until stop().
import type { Logger } from 'pino';

import type { EventNotifier } from '../events/notifier.js';
import type { Redis } from '../store/redis.js';
import { StreamTail } from '../store/stream-tail.js';
import type { ActiveAlert } from './types.js';

type StoredEvent =
  | ({ type: 'alert.fired' } & ActiveAlert)
  | { type: 'alert.cleared'; alertId: string; rule: string; clearedAt: string }
  | { type: 'alert.acknowledged'; alertId: string; rule: string; by: string; acknowledgedAt: string };

export class AlertFeed {
  private readonly tail: StreamTail;

  constructor(
    redis: Redis,
    key: string,
    private readonly notifier: EventNotifier,
    log: Logger,
    blockMs = 5_000,
  ) {
    this.tail = new StreamTail({
      redis,
      key,
      connectionName: `alert-feed:${key}`,
      logger: log,
      what: 'alerts',
      whileAway: 'they are told once it is back',
      blockMs,
      count: 200,
      onEntry: (fields) => this.tell(fields),
    });
  }

  start(): void {
    this.tail.start();
  }

  stop(): Promise<void> {
    return this.tail.stop();
  }

  private tell(fields: string[]): void {
    const at = fields.indexOf('event');
    if (at < 0 || at % 2 !== 0) return;
    let event: StoredEvent;
    try {
      event = JSON.parse(fields[at + 1]!) as StoredEvent;
    } catch {
      return;
    }
    switch (event.type) {
      case 'alert.fired': {
        const { type: _type, acknowledgedBy: _by, acknowledgedAt: _at, ...alert } = event;
        this.notifier.alertFired(alert);
        break;
      }
      case 'alert.cleared':
        this.notifier.alertCleared(event.alertId, event.rule, event.clearedAt);
        break;
      case 'alert.acknowledged':
        this.notifier.alertAcknowledged(event.alertId, event.rule, event.by, event.acknowledgedAt);
        break;
    }
  }
}
