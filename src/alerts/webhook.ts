// Alert webhooks: each fired or cleared alert POSTed as JSON to its rule's URL, signed so the
// receiver can trust it: `x-rexian-signature: sha256=<hex HMAC-SHA256 of the raw body>` with
// the secret alerts.webhookSecret (REXIAN_ALERTS_WEBHOOK_SECRET), the same way GitHub signs
// its webhooks. `x-rexian-delivery` names the delivery and stays the same on every retry, so
// a receiver that saw it already can drop it. A 2xx answer ends the delivery (the receiver gets
// it once); anything else, or no answer within the timeout, is retried after 1, 2, 4, 8 s (five
// tries), then given up with a log line. Deliveries run beside everything else: nothing waits
// for them, not a call, not the evaluation loop. Only the controller that fired (or cleared)
// an alert delivers it (./store.ts), so several controllers send it once.
import { createHmac, randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

export interface WebhookOptions {
  secret?: string;
  logger: Logger;
  /** Pause before each retry (ms); the default 1 s, 2 s, 4 s, 8 s gives five tries. */
  backoffMs?: number[];
  timeoutMs?: number;
  /** At most this many deliveries in flight; more are dropped (logged) rather than pile up. */
  maxInFlight?: number;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A URL as logs show it: without its query (which may carry a receiver's token). */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

export class WebhookSender {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  private warnedNoSecret = false;

  constructor(private readonly options: WebhookOptions) {}

  /** Starts a delivery and returns at once. */
  send(url: string, payload: Record<string, unknown>): void {
    const log = this.options.logger;
    if (this.stopped) return;
    if (!this.options.secret) {
      if (!this.warnedNoSecret)
        log.error(
          { url: shown(url) },
          'alert webhook not sent: alerts.webhookSecret (REXIAN_ALERTS_WEBHOOK_SECRET) is not set',
        );
      this.warnedNoSecret = true;
      return;
    }
    if (this.inFlight.size >= (this.options.maxInFlight ?? 200)) {
      log.warn(
        { url: shown(url), inFlight: this.inFlight.size },
        'alert webhook dropped: too many deliveries in flight',
      );
      return;
    }
    const delivery = this.deliver(url, payload).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  /** Deliveries still being tried (for tests and stop()). */
  get pending(): number {
    return this.inFlight.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(url: string, payload: Record<string, unknown>): Promise<void> {
    const log = this.options.logger.child({ url: shown(url) });
    const body = JSON.stringify(payload);
    const id = randomUUID();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'rexian-alerts',
      'x-rexian-delivery': id,
      'x-rexian-event': String(payload.type ?? ''),
      'x-rexian-signature': signature(this.options.secret!, body),
    };
    const pauses = this.options.backoffMs ?? [1_000, 2_000, 4_000, 8_000];
    for (let attempt = 1; attempt <= pauses.length + 1 && !this.stopped; attempt++) {
      const abort = new AbortController();
      this.aborts.add(abort);
      const timer = setTimeout(() => abort.abort(), this.options.timeoutMs ?? 5_000);
      let problem: string;
      try {
        const res = await fetch(url, { method: 'POST', headers, body, signal: abort.signal, redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          log.info({ delivery: id, attempt, alertType: payload.type }, 'alert webhook delivered');
          return;
        }
        problem = `answered ${res.status}`;
      } catch (err) {
        problem = (err as Error).message;
      } finally {
        clearTimeout(timer);
        this.aborts.delete(abort);
      }
      const pause = pauses[attempt - 1];
      if (pause === undefined || this.stopped) {
        log.error({ delivery: id, attempts: attempt, problem }, 'alert webhook given up');
        return;
      }
      log.warn({ delivery: id, attempt, problem, retryInMs: pause }, 'alert webhook failed; retrying');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pause);
        t.unref();
      });
    }
  }
}
