// `rexian asterisk up|down|status`: the local Asterisk instance, configured from the same
// configuration as the controller (ports and secrets), so the two always agree.
import { agentSipPassword, parseRoster, rosterEndpoints } from '../acd/roster.js';
import {
  type AgentEndpoint,
  AsteriskInstance,
  ensureChroot,
  hotlineNumbers,
  listInstances,
} from '../asterisk/instance.js';
import { type Config, loadConfig } from '../config/index.js';
import { edgeAgentContact } from '../edge/render.js';
import { parsePool } from '../masking/pool.js';

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
    // Behind the SIP edge the carrier's calls come from the edge's address.
    ...(config.edge ? { pstnMatch: config.edge.host } : {}),
    // 12345, the merged lines, and the virtual numbers (calls to them reach the controller too).
    numbers: [...hotlineNumbers, ...parsePool(config.acd.virtualNumbers ?? 'sip-config/virtual-numbers.yaml').numbers],
  });
}

/**
 * The roster's agents as PJSIP endpoints; their passwords derive from acd.agentSipSecret. With an
 * edge, every agent's AOR is a fixed contact through it (sip:agent-<id>@edge): the agent registers
 * once at the edge and every node rings it there. A browser's phone too (over the edge's WebSocket,
 * acd.webrtcUrl = ws(s)://edge:wsPort): its endpoint stays webrtc=yes, so its DTLS/ICE media goes
 * straight between the browser and the node.
 */
function rosterAgents(config: Config): AgentEndpoint[] {
  const roster = parseRoster(config.acd.agents);
  if (roster.agents.size === 0) return [];
  if (!config.acd.agentSipSecret)
    throw new Error(
      "REXIAN_AGENT_SIP_SECRET (8 characters or more) is needed to give the roster's agents SIP passwords",
    );
  const edge = config.edge;
  const contacts = edge
    ? Object.fromEntries([...roster.agents.values()].map((a) => [a.id, edgeAgentContact(a.id, edge)]))
    : {};
  return rosterEndpoints(roster, config.acd.agentSipSecret, contacts);
}

/** `rexian agent password ID`: the SIP password of a roster agent (derived, never stored). */
export function agentCommand(args: string[]): number {
  const [action, id] = args;
  const config = loadConfig();
  if (action !== 'password' || !id) {
    console.error('usage: rexian agent password ID');
    return 2;
  }
  if (!parseRoster(config.acd.agents).agents.has(id)) {
    console.error(`rexian: no agent "${id}" in ${config.acd.agents}`);
    return 1;
  }
  if (!config.acd.agentSipSecret) {
    console.error('rexian: REXIAN_AGENT_SIP_SECRET is not set');
    return 1;
  }
  console.log(agentSipPassword(config.acd.agentSipSecret, id));
  return 0;
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
  const instance = instanceFor(config, name, chroot, rosterAgents(config));
  if (action === 'up') {
    await instance.render();
    await instance.stop();
    await instance.start();
    console.log(
      `Asterisk instance "${name}" running (pid ${instance.pid()}): SIP ${config.sip.host}:${config.sip.port}, ARI ${config.ari.url}, AMI 127.0.0.1:${config.ami.port}`,
    );
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
