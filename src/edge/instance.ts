// One Kamailio edge on this machine, the way src/asterisk/instance.ts runs one Asterisk:
// renders its files into its own directory (0700; the password table 0600), starts
// Debian's /usr/sbin/kamailio in the foreground as a detached child (its log goes to a file
// beside the config, no syslog needed), and stops it leaving no process behind. Several can
// run side by side (tests, one per province), each with its own ports and directory.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { repoRoot } from '../asterisk/instance.js';
import { alive, exited } from '../asterisk/process-state.js';
import { EdgeConfigError, type EdgeFiles, type EdgeRenderOptions, renderEdge } from './render.js';

const run = promisify(execFile);
export const kamailioBinary = '/usr/sbin/kamailio';
export const kamcmdBinary = '/usr/sbin/kamcmd';

export type EdgeInstanceOptions = Omit<EdgeRenderOptions, 'dir'> & { name: string; dir?: string };

/** A node as the dispatcher sees it: flags A(ctive)/I(nactive)/D(isabled) then P(robing). */
export interface DispatcherNode {
  uri: string;
  flags: string;
  active: boolean;
}

export function edgeBaseDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rexian', 'edge');
}

export class EdgeInstance {
  readonly dir: string;

  constructor(readonly options: EdgeInstanceOptions) {
    if (!/^[a-z0-9-]+$/.test(options.name))
      throw new EdgeConfigError(`edge name "${options.name}" must be lower-case letters, digits and dashes`);
    this.dir = options.dir ?? join(edgeBaseDir(), options.name);
  }

  get ctlSocket(): string {
    return join(this.dir, 'kamailio.ctl');
  }

  get logFile(): string {
    return join(this.dir, 'kamailio.log');
  }

  files(): EdgeFiles {
    const template = readFileSync(join(repoRoot, 'sip-config/kamailio.cfg.tmpl'), 'utf8');
    return renderEdge(template, { ...this.options, dir: this.dir });
  }

  /** Writes the configuration; `kamailio -c` checks it. Safe to call again (reload() applies the node list). */
  async render(): Promise<void> {
    const files = this.files();
    mkdirSync(join(this.dir, 'db'), { recursive: true, mode: 0o700 });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, name), text, { mode: 0o600 });
    try {
      await run(kamailioBinary, ['-c', '-f', join(this.dir, 'kamailio.cfg')], { timeout: 10_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new EdgeConfigError(`Kamailio refuses ${this.dir}/kamailio.cfg:\n${lastLines(e.stderr ?? e.message, 15)}`);
    }
  }

  pid(): number | undefined {
    const file = join(this.dir, 'kamailio.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) && isKamailio(pid) ? pid : undefined;
  }

  isRunning(): boolean {
    return this.pid() !== undefined;
  }

  async start(): Promise<void> {
    if (this.isRunning()) return;
    rmSync(this.ctlSocket, { force: true });
    const log = openSync(this.logFile, 'a', 0o600);
    // -DD: stay in the foreground (we hold the pid), -E: log to stderr (the log file).
    const child = spawn(kamailioBinary, ['-DD', '-E', '-f', join(this.dir, 'kamailio.cfg')], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${kamailioBinary}`);
    writeFileSync(join(this.dir, 'kamailio.pid'), `${child.pid}\n`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (!alive(child.pid))
        throw new Error(`Kamailio edge "${this.options.name}" exited at start:\n${lastLines(this.tailLog(), 20)}`);
      if (existsSync(this.ctlSocket)) {
        try {
          await this.rpc(['core.version']);
          return;
        } catch {
          // the socket exists before the control process answers
        }
      }
      if (Date.now() > deadline)
        throw new Error(`Kamailio edge "${this.options.name}" did not answer on ${this.ctlSocket} within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One RPC over the ctl socket (kamcmd), e.g. ['dispatcher.list']. */
  async rpc(args: string[], timeoutMs = 5_000): Promise<string> {
    const { stdout } = await run(kamcmdBinary, ['-s', `unix:${this.ctlSocket}`, ...args], { timeout: timeoutMs });
    return stdout;
  }

  /** Re-reads the node list (after render()) without a restart; registrations stay. */
  async reloadNodes(): Promise<void> {
    await this.rpc(['dispatcher.reload']);
  }

  /** The dispatcher's view of the nodes. */
  async nodes(): Promise<DispatcherNode[]> {
    const out = await this.rpc(['dispatcher.list']);
    const found: DispatcherNode[] = [];
    const re = /URI:\s*(sip:\S+)\s*\n\s*FLAGS:\s*(\S+)/g;
    for (let m = re.exec(out); m; m = re.exec(out))
      found.push({ uri: m[1]!, flags: m[2]!, active: m[2]!.startsWith('A') });
    return found;
  }

  /** Registered contacts, by AOR (agent-<id> → contact URIs). */
  async registrations(): Promise<Map<string, string[]>> {
    const out = await this.rpc(['ul.dump']);
    const map = new Map<string, string[]>();
    let aor: string | undefined;
    for (const line of out.split('\n')) {
      const a = /^\s*AoR:\s*(\S+)/.exec(line);
      if (a) aor = a[1]!;
      const c = /^\s*Address:\s*(\S+)/.exec(line);
      if (c && aor) map.set(aor, [...(map.get(aor) ?? []), c[1]!]);
    }
    return map;
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    // Kamailio's main process takes its children down with it on SIGTERM.
    signal(-pid, 'SIGTERM');
    if (await exited(pid, 5_000)) return;
    signal(-pid, 'SIGKILL');
    await exited(pid, 5_000);
  }

  /** Stops the edge and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  tailLog(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function isKamailio(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(kamailioBinary);
  } catch {
    return false;
  }
}
