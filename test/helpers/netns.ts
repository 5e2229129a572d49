// A network namespace for the browser-phone test, joined to the root namespace by a veth
// pair: 198.18.0.1/30 on the root side, 198.18.0.2/30 inside (the project's own test hosts;
// traffic stays on this machine). pjlib, Asterisk's ICE, skips loopback interfaces, so a
// WebRTC call needs a non-loopback address it may offer: the root side of the pair is it.
// Names carry the test process's pid, so several runs never share one, and a start removes
// what an aborted run (its pid gone) left behind. Deleting the namespace deletes the pair.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

import { scratchDir } from './scratch.js';

export const ROOT_ADDRESS = '198.18.0.1';
export const INNER_ADDRESS = '198.18.0.2';
const PREFIX = 'rxph';

export interface Netns {
  name: string;
  /** The veth end in the root namespace (holds ROOT_ADDRESS). */
  rootLink: string;
  /** Runs a command inside the namespace and returns its stdout. */
  exec(cmd: string, args: string[]): string;
  /**
   * Makes 127.0.0.1:PORT inside the namespace reach 127.0.0.1:PORT of the root namespace,
   * for each port (through ROOT_ADDRESS): a page loaded from 127.0.0.1 inside is a secure
   * context (getUserMedia) while its media can only use the veth.
   */
  forwardLoopback(ports: number[]): Promise<void>;
  /** A script that runs the given program inside the namespace (playwright's executablePath). */
  wrapper(program: string): string;
  /** Always safe to call, twice too. */
  close(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces and root-side links of this helper whose test process has gone. */
export function removeLeftovers(): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)$`).exec(name)?.[1]);
    if (pid && !alive(pid)) ip(['netns', 'del', name]);
  }
  for (const line of ip(['-o', 'link', 'show']).split('\n')) {
    const m = new RegExp(`^\\d+: (${PREFIX}(\\d+)a)[@:]`).exec(line);
    if (m && !alive(Number(m[2]))) ip(['link', 'del', m[1]!]);
  }
}

export function createNetns(): Netns {
  removeLeftovers();
  const name = `${PREFIX}${process.pid}`;
  const rootLink = `${name}a`;
  const innerLink = `${name}b`;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      ip(['netns', 'del', name]);
    } catch {
      /* never made */
    }
    try {
      ip(['link', 'del', rootLink]);
    } catch {
      /* gone with the namespace */
    }
  };
  try {
    ip(['netns', 'add', name]);
    ip(['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', innerLink]);
    ip(['link', 'set', innerLink, 'netns', name]);
    ip(['addr', 'add', `${ROOT_ADDRESS}/30`, 'dev', rootLink]);
    ip(['link', 'set', rootLink, 'up']);
    ip(['-n', name, 'addr', 'add', `${INNER_ADDRESS}/30`, 'dev', innerLink]);
    ip(['-n', name, 'link', 'set', innerLink, 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    close();
    throw err;
  }
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  const closeAll = close;
  const closeWithForwarders = (): void => {
    for (const c of children) c.kill('SIGKILL');
    for (const srv of servers) srv.close();
    closeAll();
  };
  process.once('exit', closeWithForwarders);
  return {
    name,
    rootLink,
    close: closeWithForwarders,
    wrapper(program) {
      const file = join(scratchDir('netns'), `in-${name}.sh`);
      writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${name} ${program} "$@"\n`, { mode: 0o755 });
      return file;
    },
    async forwardLoopback(ports) {
      for (const port of ports) {
        // Root side: ROOT_ADDRESS:PORT → 127.0.0.1:PORT (the test process itself relays).
        const srv = createServer((inbound) => pipe(inbound, createConnection({ host: '127.0.0.1', port })));
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(port, ROOT_ADDRESS, resolve);
        });
        servers.push(srv);
      }
      // Inside: 127.0.0.1:PORT → ROOT_ADDRESS:PORT, a node of its own in the namespace.
      const child = spawn(
        'ip',
        ['netns', 'exec', name, process.execPath, '-e', INNER_RELAY, ROOT_ADDRESS, ...ports.map(String)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the namespace's relay exited (${code})`)));
        child.stdout!.once('data', () => resolve());
      });
    },
    exec: (cmd, args) => execFileSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8' }),
  };
}

function pipe(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}

/** The relay run inside the namespace: argv = target address, then ports. Says "ready". */
const INNER_RELAY = `
const net = require('node:net');
const [target, ...ports] = process.argv.slice(1);
// Ends with the test process (its stdin closes), so an aborted run leaves no relay behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
let left = ports.length;
for (const p of ports) {
  net.createServer((a) => {
    const b = net.createConnection({ host: target, port: Number(p) });
    a.pipe(b).pipe(a);
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
  }).listen(Number(p), '127.0.0.1', () => { if (--left === 0) process.stdout.write('ready\\n'); });
}
`;
