// One Asterisk instance inside the Debian-sid chroot: renders sip-config/ and dialplans/
// into its own directories, starts it as root (no -U: astdb fails to open under a dropped
// user here), stops it leaving no process behind. Ports and directories are per instance,
// so tests and scale-out can run several side by side.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { RexianError } from '../errors/index.js';
import { loadPromptCatalog, preparePrompt, type PromptPaths } from '../ivr/prompts.js';
import { alive, exited } from './process-state.js';

const run = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The numbers citizens dial: 12345 and the legacy lines merged into it. */
export const hotlineNumbers = ['12345', '12315', '12329', '12333', '12366', '12348'];

export interface AgentEndpoint {
  id: string;
  secret: string;
  /** A fixed contact (lab agents that do not register), e.g. sip:agent@127.0.0.1:5071. */
  contact?: string;
  /** Member of the native fallback queue. */
  fallback?: boolean;
  /** A browser agent: WebRTC over WSS (DTLS-SRTP, ICE, Opus or G.711). */
  webrtc?: boolean;
}

export interface InstanceOptions {
  name: string;
  chroot: string;
  sipHost?: string;
  sipPort: number;
  httpPort: number;
  amiPort: number;
  rtpStart: number;
  rtpEnd: number;
  ari: { username: string; password: string; app: string };
  ami: { username: string; password: string };
  /** Addresses the carrier's INVITEs come from (PJSIP identify match). */
  pstnMatch?: string;
  /** Where outbound calls to the public network are sent, e.g. sip:127.0.0.1:5090. */
  pstnContact?: string;
  /** The emergency trunk (110/119/120/122). */
  emergencyContact?: string;
  agents?: AgentEndpoint[];
  /** Numbers the carrier delivers to the hotline (default: 12345 and the merged lines). */
  numbers?: string[];
  /** Host directory of recorded prompt overrides. */
  recordedPromptsDir?: string;
  extraPjsip?: string;
  extraDialplan?: string;
}

export class AsteriskInstance {
  readonly options: InstanceOptions;
  /** The instance's directory as Asterisk sees it (inside the chroot). */
  readonly innerDir: string;
  /** The same directory from the host. */
  readonly hostDir: string;
  readonly prompts: PromptPaths;

  constructor(options: InstanceOptions) {
    if (!/^[a-z0-9-]+$/.test(options.name)) {
      throw new RexianError(
        'REXIAN_ASTERISK_INSTANCE',
        {},
        `instance name "${options.name}" must be lower-case letters, digits and dashes`,
      );
    }
    this.options = options;
    this.innerDir = `/var/lib/rexian/instances/${options.name}`;
    this.hostDir = join(options.chroot, this.innerDir);
    this.prompts = {
      dir: join(options.chroot, 'var/lib/rexian/prompts'),
      asteriskDir: '/var/lib/rexian/prompts',
      recordedDir: options.recordedPromptsDir ?? join(repoRoot, 'prompts/recorded'),
    };
  }

  get ariUrl(): string {
    return `http://127.0.0.1:${this.options.httpPort}`;
  }

  /** Writes the instance's configuration. Safe to call again; the next start picks it up. */
  async render(): Promise<void> {
    const o = this.options;
    if (!existsSync(join(o.chroot, 'usr/sbin/asterisk'))) {
      throw new RexianError(
        'REXIAN_ASTERISK_INSTANCE',
        { chroot: o.chroot },
        `no Asterisk in ${o.chroot}: build the chroot first (scripts/asterisk-chroot.sh)`,
      );
    }
    ensureChrootHosts(o.chroot);
    const etc = join(this.hostDir, 'etc');
    for (const sub of ['etc', 'lib/keys', 'spool/recording', 'spool/monitor', 'run', 'log', 'cache'])
      mkdirSync(join(this.hostDir, sub), { recursive: true });
    // Debian's defaults first (features, indications, codecs …), then ours on top.
    cpSync(join(o.chroot, 'etc/asterisk'), etc, { recursive: true });
    for (const f of ['extensions.ael', 'extensions.lua', 'sip.conf', 'iax.conf']) rmSync(join(etc, f), { force: true });

    const catalog = loadPromptCatalog(join(repoRoot, 'prompts/catalog.yaml'));
    const fallbackPrompt = await preparePrompt(
      this.prompts,
      'fallback-apology',
      catalog['fallback-apology'] ?? '抱歉，正在为您转接人工服务。',
    );

    const agents = o.agents ?? [];
    const vars: Record<string, string> = {
      sip_host: o.sipHost ?? '127.0.0.1',
      sip_port: String(o.sipPort),
      http_port: String(o.httpPort),
      ami_port: String(o.amiPort),
      rtp_start: String(o.rtpStart),
      rtp_end: String(o.rtpEnd),
      ari_username: o.ari.username,
      ari_password: o.ari.password,
      ari_app: o.ari.app,
      ami_username: o.ami.username,
      ami_password: o.ami.password,
      pstn_match: o.pstnMatch ?? '127.0.0.1',
      pstn_contact: o.pstnContact ?? 'sip:127.0.0.1:5090',
      emergency_contact: o.emergencyContact ?? o.pstnContact ?? 'sip:127.0.0.1:5090',
      fallback_prompt: fallbackPrompt,
      agents: agents.map(renderAgent).join('\n'),
      fallback_members: agents
        .filter((a) => a.fallback !== false)
        .map((a) => `member => PJSIP/agent-${a.id}`)
        .join('\n'),
      line_extensions: (o.numbers ?? hotlineNumbers)
        .map((n) => `exten => ${n},1,Goto(rexian-inbound,\${EXTEN},1)`)
        .join('\n'),
    };
    const sources: Array<[string, string, string | undefined]> = [
      ['sip-config/pjsip.conf', 'pjsip.conf', o.extraPjsip],
      ['dialplans/extensions.conf', 'extensions.conf', o.extraDialplan],
      ['sip-config/queues.conf', 'queues.conf', undefined],
      ['sip-config/sorcery.conf', 'sorcery.conf', undefined],
      ['sip-config/http.conf', 'http.conf', undefined],
      ['sip-config/ari.conf', 'ari.conf', undefined],
      ['sip-config/manager.conf', 'manager.conf', undefined],
      ['sip-config/rtp.conf', 'rtp.conf', undefined],
      ['sip-config/musiconhold.conf', 'musiconhold.conf', undefined],
      ['sip-config/logger.conf', 'logger.conf', undefined],
      ['sip-config/modules.conf', 'modules.conf', undefined],
    ];
    for (const [src, dst, extra] of sources) {
      const text = fill(readFileSync(join(repoRoot, src), 'utf8'), { ...vars, extra: extra ?? '' }, src);
      writeFileSync(join(etc, dst), text, { mode: 0o600 });
    }
    writeFileSync(join(etc, 'asterisk.conf'), this.asteriskConf(), { mode: 0o600 });
  }

  private asteriskConf(): string {
    const d = this.innerDir;
    return `; rendered by rexian for instance ${this.options.name}
[directories]
astcachedir => ${d}/cache
astetcdir => ${d}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => ${d}/lib
astkeydir => ${d}/lib
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => ${d}/spool
astrundir => ${d}/run
astlogdir => ${d}/log
astsbindir => /usr/sbin

[options]
systemname = ${this.options.name}
documentation_language = en_US
defaultlanguage = en
hideconnect = yes
`;
  }

  /** The asterisk binary inside the chroot with this instance's configuration. */
  private cli(args: string[]): { cmd: string; args: string[] } {
    return {
      cmd: 'chroot',
      args: [this.options.chroot, '/usr/sbin/asterisk', '-C', `${this.innerDir}/etc/asterisk.conf`, ...args],
    };
  }

  pid(): number | undefined {
    const file = join(this.hostDir, 'run/asterisk.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return alive(pid) ? pid : undefined;
  }

  isRunning(): boolean {
    return this.pid() !== undefined;
  }

  async start(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new RexianError(
        'REXIAN_ASTERISK_INSTANCE',
        {},
        'starting Asterisk in its chroot needs root (chroot(2)); run as root or with sudo',
      );
    }
    if (this.isRunning()) return;
    rmSync(join(this.hostDir, 'run'), { recursive: true, force: true });
    mkdirSync(join(this.hostDir, 'run'), { recursive: true });
    const { cmd, args } = this.cli([]); // daemonizes; the pid file tells us where it went
    try {
      await run(cmd, args, { timeout: 20_000 });
      // The daemon forks before it opens its control socket: wait for the socket first.
      const ctl = join(this.hostDir, 'run/asterisk.ctl');
      const deadline = Date.now() + 20_000;
      while (!existsSync(ctl)) {
        if (Date.now() > deadline) throw new Error(`no control socket ${ctl} after 20 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await this.command('core waitfullybooted', 30_000);
    } catch (err) {
      const log = this.tailLog(20);
      throw new RexianError(
        'REXIAN_ASTERISK_INSTANCE',
        { instance: this.options.name },
        `Asterisk instance "${this.options.name}" did not start: ${(err as Error).message}${log ? `\n--- messages.log ---\n${log}` : ''}`,
      );
    }
  }

  /** Runs one CLI command on the running instance (over its control socket). */
  async command(line: string, timeoutMs = 10_000): Promise<string> {
    const { cmd, args } = this.cli(['-rx', line]);
    const { stdout } = await run(cmd, args, { timeout: timeoutMs });
    return stdout;
  }

  /** Stops the instance; live calls are hung up. Leaves no process behind. */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    try {
      await this.command('core stop now', 5_000);
    } catch {
      /* not answering on its socket: signals below */
    }
    if (await exited(pid, 10_000)) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    if (await exited(pid, 5_000)) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await exited(pid, 5_000);
  }

  /** Stops and forgets the instance's directories (the shared chroot stays). */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.hostDir, { recursive: true, force: true });
  }

  tailLog(lines: number): string {
    const file = join(this.hostDir, 'log/messages.log');
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  }
}

function renderAgent(agent: AgentEndpoint): string {
  if (!/^[0-9A-Za-z_-]+$/.test(agent.id))
    throw new RexianError(
      'REXIAN_ASTERISK_INSTANCE',
      {},
      `agent id "${agent.id}" may hold only letters, digits, _ and -`,
    );
  const name = `agent-${agent.id}`;
  return [
    `[${name}](${agent.webrtc ? 'agent-webrtc-endpoint' : 'agent-endpoint'})`,
    `auth=${name}`,
    `aors=${name}`,
    `callerid="${agent.id}" <${agent.id}>`,
    '',
    `[${name}](agent-auth)`,
    `username=${name}`,
    `password=${agent.secret}`,
    '',
    `[${name}](agent-aor)`,
    ...(agent.contact ? [`contact=${agent.contact}`] : []),
    '',
  ].join('\n');
}

function fill(template: string, vars: Record<string, string>, source: string): string {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined)
      throw new RexianError('REXIAN_ASTERISK_INSTANCE', { source, key }, `${source}: unknown placeholder {{${key}}}`);
    return value;
  });
}

/**
 * mmdebstrap leaves the chroot without /etc/hosts, so Asterisk's lookups of "localhost" and
 * of this machine's name (it looks both up on the first call) go to DNS, which can be slow
 * or silent: the first call then stalls. Name them locally.
 */
function ensureChrootHosts(chroot: string): void {
  const file = join(chroot, 'etc/hosts');
  const name = hostname();
  const wanted = `127.0.0.1\tlocalhost ${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  if (existsSync(file) && readFileSync(file, 'utf8').split(/\s+/).includes(name)) return;
  writeFileSync(
    file,
    `# written by rexian (src/asterisk/instance.ts)\n${wanted}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`,
  );
}

/** Every instance directory in a chroot, for `rexian asterisk status`. */
export function listInstances(chroot: string): string[] {
  const dir = join(chroot, 'var/lib/rexian/instances');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The chroot the project's script builds, creating it when missing. */
export function ensureChroot(): string {
  const out = execFileSync('bash', [join(repoRoot, 'scripts/asterisk-chroot.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}
