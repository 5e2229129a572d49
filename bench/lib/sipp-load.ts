// SIPp as a load generator: one process places many calls (-l simultaneous at most, -r new
// calls per second, -m in all) or answers them all (a UAS for every agent endpoint), and
// writes its counters every second, which the bench reads while it runs. Unlike
// test/helpers/sipp.ts it keeps no message trace: at hundreds of calls the trace is the
// load. Distinct caller numbers per call come from an injection file ([field0]).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SippCounters {
  /** Calls up now. */
  current: number;
  /** Calls placed (UAC) or received (UAS) so far. */
  total: number;
  successful: number;
  failed: number;
}

export interface SippLoad {
  /** The counters SIPp last wrote (every second). */
  counters(): SippCounters;
  /** Resolves when SIPp has ended (every call of -m done, or killed). */
  done: Promise<number | null>;
  /** Ends SIPp at once (its calls are left to time out on the far side). */
  kill(): void;
  errors(): string;
}

export interface SippLoadOptions {
  dir: string;
  name: string;
  scenario: string;
  localPort: number;
  mediaPort: number;
  /** UAC: where to call and which number. */
  remote?: string;
  service?: string;
  /** UAC: at most this many calls at once, new ones at this rate, this many in all. */
  limit?: number;
  rate?: number;
  calls?: number;
  /** An injection file (-inf), e.g. caller numbers. */
  injection?: string;
  extraArgs?: string[];
}

export function startSippLoad(o: SippLoadOptions): SippLoad {
  const stats = join(o.dir, `${o.name}.stats.csv`);
  const errorFile = join(o.dir, `${o.name}.errors.log`);
  const args = [
    ...(o.remote ? [o.remote] : []),
    '-sf',
    o.scenario,
    '-i',
    '127.0.0.1',
    '-p',
    String(o.localPort),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(o.mediaPort),
    '-nostdin',
    '-trace_stat',
    '-stf',
    stats,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    errorFile,
    '-max_socket',
    '4096',
    ...(o.service ? ['-s', o.service] : []),
    ...(o.limit !== undefined ? ['-l', String(o.limit)] : []),
    ...(o.rate !== undefined ? ['-r', String(o.rate)] : []),
    ...(o.calls !== undefined ? ['-m', String(o.calls)] : []),
    ...(o.injection ? ['-inf', o.injection] : []),
    ...(o.extraArgs ?? []),
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const done = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  return {
    counters: () => readCounters(stats),
    done,
    kill: () => child.kill('SIGKILL'),
    errors: () => (existsSync(errorFile) ? readFileSync(errorFile, 'utf8').slice(-2000) : '') + stderr,
  };
}

function readCounters(file: string): SippCounters {
  const zero = { current: 0, total: 0, successful: 0, failed: 0 };
  if (!existsSync(file)) return zero;
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  if (lines.length < 2) return zero;
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => Number(last[header.indexOf(name)] ?? 0) || 0;
  return {
    current: col('CurrentCall'),
    total: col('TotalCallCreated'),
    successful: col('SuccessfulCall(C)'),
    failed: col('FailedCall(C)'),
  };
}

/** An injection file of distinct caller numbers (mobile numbers from a base), one per call. */
export function callerNumbers(dir: string, name: string, base: number, count: number): string {
  const file = join(dir, `${name}.callers.csv`);
  writeFileSync(file, `SEQUENTIAL\n${Array.from({ length: count }, (_, i) => `${base + i};`).join('\n')}\n`);
  return file;
}
