// An agent's call events reach the agent's page whichever controller it is connected to. The
// offer, the call's state, a consultation's progress, transfer and emergency results are made by
// the controller that holds the call, but a page may be on any controller: in a province the
// call came in on another city's node, and of a pair the page may still be on the standby. So
// each such event is told on this controller's stream at once (no hop for the common case) and
// appended to the Redis stream `<prefix>:agent-call-events`; every controller tails that stream
// and tells what the others appended. Agent states and alerts have feeds of their own
// (acd/agent-state-feed.ts, alerts/feed.ts), written in the same step as the change they tell.
//
// Losing Redis loses only the relay (this controller's own pages are told directly); an append
// that fails is logged once per outage, never retried late (a screen pop a minute old misleads).
import type { Logger } from 'pino';

import type { Redis } from '../store/redis.js';
import { StreamTail } from '../store/stream-tail.js';
import type { RexianEvent } from './catalogue.js';
import type { EventNotifier, EventSink } from './notifier.js';

/** The events made where the call is, for an agent who may be anywhere. */
export const RELAYED_TYPES: ReadonlySet<RexianEvent['type']> = new Set<RexianEvent['type']>([
  'agent.offer',
  'agent.offer-withdrawn',
  'agent.call',
  'agent.consult',
  'agent.consult-failed',
  'agent.transfer-failed',
  'agent.emergency',
  'agent.emergency-answered',
  'agent.emergency-failed',
]);

/** Entries kept: a few minutes of a busy platform's events; a page that missed more resyncs. */
const MAX_ENTRIES = 10_000;

export interface EventRelayDeps {
  redis: Redis;
  prefix: string;
  controllerId: string;
  notifier: EventNotifier;
  logger: Logger;
  blockMs?: number;
}

export class EventRelay {
  private readonly tail: StreamTail;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  private appendFailing = false;
  /** What other controllers' entries this one told (for logs and tests). */
  told = 0;

  constructor(private readonly deps: EventRelayDeps) {
    this.log = deps.logger.child({ domain: 'events', part: 'relay' });
    this.tail = new StreamTail({
      redis: deps.redis,
      key: this.key,
      connectionName: `event-relay:${deps.prefix}`,
      logger: this.log,
      what: "other controllers' agent call events",
      whileAway: 'agents on this controller hear only its own calls until it is back',
      ...(deps.blockMs !== undefined ? { blockMs: deps.blockMs } : {}),
      onEntry: (fields) => this.tell(fields),
    });
  }

  get key(): string {
    return `${this.deps.prefix}:agent-call-events`;
  }

  start(): void {
    this.unsubscribe = this.deps.notifier.subscribe(this.append, () => false); // nobody listens here
    this.tail.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.tail.stop();
  }

  private readonly append: EventSink = (event) => {
    if (!RELAYED_TYPES.has(event.type)) return;
    this.deps.redis
      .xadd(this.key, 'MAXLEN', '~', MAX_ENTRIES, '*', 'from', this.deps.controllerId, 'event', JSON.stringify(event))
      .then(
        () => {
          if (this.appendFailing) this.log.info('relaying agent call events again');
          this.appendFailing = false;
        },
        (err: Error) => {
          if (!this.appendFailing)
            this.log.warn(
              { err: err.message, type: event.type },
              'cannot relay an agent call event to other controllers (Redis); their pages miss it',
            );
          this.appendFailing = true;
        },
      );
  };

  private tell(fields: string[]): void {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    if (!f.event || f.from === this.deps.controllerId) return; // our own: told when made
    let event: RexianEvent;
    try {
      event = JSON.parse(f.event) as RexianEvent;
    } catch {
      return;
    }
    if (!RELAYED_TYPES.has(event.type)) return; // only what this version relays (and knows)
    this.deps.notifier.tell(event, this.append);
    this.told++;
  }
}
