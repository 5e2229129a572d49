// The end of a call: every domain on the event path releases what it holds, the record is
// kept, then the live state goes. The record is written whatever the clean-up did, and it is
// kept before the live state goes, so an end that cannot be recorded (Redis down) is tried
// again, and replayed by the next reconcile should this process die first.
import { backoffDelay } from '../asterisk/backoff.js';
import { LogEvent } from '../events/log-events.js';
import type { Call, CallRecordState } from './call.js';
import type { CallEventPath } from './event-path.js';
import type { LiveCallStore } from './store.js';

export type EndReason = 'hangup' | 'ended-while-away' | 'asterisk-restarted';

/** Retries of a record that could not be kept: 0.5 s, 1 s, 2 s … up to 30 s. */
const RECORD_BACKOFF = { baseMs: 500, maxMs: 30_000 };

export interface CallEndDeps {
  store: LiveCallStore;
  /** The path the call's end goes along (set once the calls domain is routed). */
  path: () => CallEventPath;
  /** Keeps the call's record (before its live state is removed). */
  onEnded?: (state: CallRecordState, reason: EndReason) => Promise<void>;
}

export class CallEnd {
  constructor(private readonly deps: CallEndDeps) {}

  /**
   * A call is over: every domain on the path releases what it holds, the record is kept, the
   * live state goes.
   * The record is written whatever the clean-up did: a failing clean-up is logged and the
   * call's end goes on. The record is kept before the live state goes: if keeping it fails
   * (Redis down) the live state stays, and the next reconcile replays the end; the writer keeps
   * one row per call id, so a replay of a record that did get through is a no-op.
   * Returns false when the record could not be kept.
   */
  async closeOut(call: Call, reason: EndReason): Promise<boolean> {
    try {
      await this.deps.path().onEnd(call); // it isolates each domain's failure; this is a last guard
    } catch (err) {
      call.log.error({ err, reason }, 'clean-up at the end of the call failed; the record is kept all the same');
    }
    try {
      await this.deps.onEnded?.(call.state, reason);
    } catch (err) {
      call.log.error(
        { err, reason },
        'could not keep the call record; its live state stays, and the record is tried again',
      );
      this.keepRecordLater(call, reason);
      return false;
    }
    await this.removeEnded(call);
    return true;
  }

  private async removeEnded(call: Call): Promise<void> {
    try {
      await this.deps.store.remove(call.id);
    } catch (err) {
      call.log.warn(
        { err: (err as Error).message },
        'could not remove the live state of an ended call; the next reconcile closes it out again',
      );
    }
  }

  /**
   * The record could not be kept (Redis down): tried again with backoff while this process
   * lives, then the live state goes. Should the process die first, the next reconcile finds
   * the live state and replays the end; a record written twice is one row (keyed by call id).
   */
  private keepRecordLater(call: Call, reason: EndReason, attempt = 0): void {
    setTimeout(
      () =>
        void (async () => {
          try {
            await this.deps.onEnded?.(call.state, reason);
          } catch {
            this.keepRecordLater(call, reason, attempt + 1);
            return;
          }
          call.log.info(
            { event: LogEvent.callRecordKeptLater, reason, tries: attempt + 2 },
            'call record kept on a later try',
          );
          await this.removeEnded(call);
        })(),
      backoffDelay(attempt, RECORD_BACKOFF),
    ).unref();
  }
}
