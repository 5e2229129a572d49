// The problems a config parser reports (file:line:col lines), or [] when it accepts the input.
import { isRexianError } from '../../src/errors/index.js';

export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isRexianError(err)) return (err.details.problems as string[] | undefined) ?? [err.message];
    throw err;
  }
  return [];
}
