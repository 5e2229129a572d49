// Clean-up at the end of a call runs as named steps, each whatever the one before did: an
// agent leg that will not hang up must not leave its agent reserved, nor a figure that cannot
// be counted keep the caller in the waiting list.
import type { Call } from '../calls/call.js';

export type CleanUpStep = [name: string, run: () => Promise<unknown>];

/** Runs the steps in order; a failing one is logged (with its name) and the next runs. */
export async function runSteps(call: Call, steps: CleanUpStep[]): Promise<void> {
  for (const [step, run] of steps) {
    try {
      await run();
    } catch (err) {
      call.log.error({ err, step }, 'a clean-up step at the end of the call failed; the others go on');
    }
  }
}
