// One scratch directory per test process for generated files (scenarios, pcaps, flows),
// removed when the process exits, so runs leave nothing behind in /tmp.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;
let count = 0;

/** A fresh directory under this process's scratch root. */
export function scratchDir(label: string): string {
  if (!root) {
    const made = mkdtempSync(join(tmpdir(), 'rexian-test-'));
    root = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const dir = join(root, `${label}-${count++}`);
  mkdirSync(dir);
  return dir;
}
