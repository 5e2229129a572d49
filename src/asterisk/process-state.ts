// Whether a daemon we started still runs, for the Asterisk instances and the SIP edge alike.
import { readFileSync } from 'node:fs';

/**
 * Whether a process runs. A killed daemon is re-parented to init and stays a zombie until
 * reaped, and kill(pid, 0) still succeeds on a zombie: read its state instead.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until the process has gone (true) or the time is up (false). */
export async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
