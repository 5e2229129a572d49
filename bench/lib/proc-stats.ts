// What a process costs, read from /proc: CPU time (user + system), resident memory and open
// file descriptors, and which process listens on a TCP port (the controller child runs under
// its own pid, not the bench's). Linux only, like the labs.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK is 100 on Linux x86-64). */
const TICKS_PER_SECOND = 100;

export interface ProcSample {
  at: number;
  /** CPU time used so far, user + system, in ms. */
  cpuMs: number;
  rssMb: number;
  fds: number;
}

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  let fds = 0;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // the process ended meanwhile
  }
  return { at: Date.now(), cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssMb: rssKb / 1024, fds };
}

/** CPU between two samples as a share of one core (1.0 = one core busy all the time). */
export function cpuShare(from: ProcSample, to: ProcSample): number {
  return (to.cpuMs - from.cpuMs) / Math.max(1, to.at - from.at);
}

/** The machine's load averages (1, 5 and 15 minutes), to say how busy it was besides the bench. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** The pid of the process listening on this TCP port (IPv4 or IPv6), if any. */
export function pidListeningOn(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1]!.endsWith(`:${hex}`) && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const holds = readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
        } catch {
          return false;
        }
      });
      if (holds) return Number(pid);
    } catch {
      // the process ended meanwhile, or is not ours to read
    }
  }
  return undefined;
}
