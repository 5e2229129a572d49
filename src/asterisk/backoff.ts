// Capped exponential backoff with jitter, shared by the ARI reconnect and the calls domain's
// reconcile retries. Pure, so its numbers are unit tested: a failure that repeats at once
// (a connection that opens and drops, a reconcile that fails on every try) must slow down to
// the cap rather than spin, which once filled 11 MB of log a minute.

export interface BackoffOptions {
  /** The first delay. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): base · 2^attempt, capped,
 * then jittered into its upper half so that many controllers do not retry in step.
 * `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number = Math.random()): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30); // 2^30 · base is past any cap
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}

/**
 * The attempt counter after a connection closed: it starts again from zero only when the
 * connection had been up for `stableMs`. One that drops at once (Asterisk accepts the socket
 * and closes it, or reconcile fails and we reconnect) counts as one more failure.
 */
export function attemptAfterClose(attempt: number, upForMs: number, stableMs: number): number {
  return upForMs >= stableMs ? 0 : attempt;
}
