// `rexian asterisk up|down|status`: the local Asterisk instance, configured from the same
// configuration as the controller (ports and secrets), so the two always agree.
import { loadConfig, type Config } from '../config/index.js';
import { AsteriskInstance, ensureChroot, listInstances, type AgentEndpoint } from '../asterisk/instance.js';

export function instanceFor(config: Config, name: string, chroot: string, agents: AgentEndpoint[]): AsteriskInstance {
  const ariPort = Number(new URL(config.ari.url).port || 80);
  return new AsteriskInstance({
    name,
    chroot,
    sipHost: config.sip.host,
    sipPort: config.sip.port,
    httpPort: ariPort,
    amiPort: config.ami.port,
    rtpStart: 10_000,
    rtpEnd: 10_998,
    ari: { username: config.ari.username, password: config.ari.password, app: config.ari.app },
    ami: { username: config.ami.username, password: config.ami.password },
    agents,
  });
}

/** Lab agents for a local stack: REXIAN_LAB_AGENTS="1001,1002" sharing REXIAN_LAB_AGENT_SECRET. */
function labAgents(env: NodeJS.ProcessEnv): AgentEndpoint[] {
  const ids = (env.REXIAN_LAB_AGENTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const secret = env.REXIAN_LAB_AGENT_SECRET;
  if (ids.length > 0 && (!secret || secret.length < 8)) throw new Error('REXIAN_LAB_AGENT_SECRET (8 characters or more) is needed for REXIAN_LAB_AGENTS');
  return ids.map((id) => ({ id, secret: secret! }));
}

export async function asteriskCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const name = valueOf(rest, '--name') ?? 'local';
  const chroot = ensureChroot();
  if (action === 'status') {
    for (const n of listInstances(chroot)) {
      const inst = new AsteriskInstance({ name: n, chroot } as never);
      console.log(`${n}\t${inst.isRunning() ? `running (pid ${inst.pid()})` : 'stopped'}`);
    }
    return 0;
  }
  const config = loadConfig();
  const instance = instanceFor(config, name, chroot, labAgents(process.env));
  if (action === 'up') {
    await instance.render();
    await instance.stop();
    await instance.start();
    console.log(`Asterisk instance "${name}" running (pid ${instance.pid()}): SIP ${config.sip.host}:${config.sip.port}, ARI ${config.ari.url}, AMI 127.0.0.1:${config.ami.port}`);
    return 0;
  }
  if (action === 'down') {
    await instance.stop();
    console.log(`Asterisk instance "${name}" stopped`);
    return 0;
  }
  console.error('usage: rexian asterisk up|down|status [--name NAME]');
  return 2;
}

function valueOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
