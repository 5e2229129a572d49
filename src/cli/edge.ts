// `rexian edge up|down|status|render`: the SIP edge (Kamailio) on this machine, configured from the
// same configuration as the controller and `rexian asterisk up` (the roster, its derived SIP
// passwords, the nodes' SIP addresses), so the edge and the nodes always agree.
import { agentSipPassword, parseRoster } from '../acd/roster.js';
import { type Config, loadConfig } from '../config/index.js';
import { EdgeInstance } from '../edge/instance.js';
import type { EdgeAgent } from '../edge/render.js';

export function edgeFor(config: Config, name: string): EdgeInstance {
  const edge = config.edge;
  if (!edge)
    throw new Error('no edge block in the configuration: set edge.host and edge.port (docs: README "SIP edge")');
  return new EdgeInstance({
    name,
    host: edge.host,
    port: edge.port,
    wsPort: edge.wsPort,
    nodes: edge.nodes ?? [{ name: 'local', host: config.sip.host, port: config.sip.port }],
    carriers: edge.carriers ?? ['127.0.0.1'],
    realm: edge.realm ?? 'rexian',
    agents: edgeAgents(config),
  });
}

/** The roster's agents with their derived SIP passwords (the edge authenticates their REGISTERs). */
function edgeAgents(config: Config): EdgeAgent[] {
  const roster = parseRoster(config.acd.agents);
  if (roster.agents.size === 0) return [];
  const secret = config.acd.agentSipSecret;
  if (!secret)
    throw new Error("REXIAN_AGENT_SIP_SECRET (8 characters or more) is needed for the agents' SIP passwords");
  return [...roster.agents.keys()].map((id) => ({ id, password: agentSipPassword(secret, id) }));
}

export async function edgeCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const i = rest.indexOf('--name');
  const name = i >= 0 ? (rest[i + 1] ?? 'local') : 'local';
  const config = loadConfig();
  const edge = edgeFor(config, name);
  if (action === 'up') {
    await edge.render();
    await edge.stop();
    await edge.start();
    const nodes = edge.options.nodes.map((n) => `${n.name} ${n.host}:${n.port}`).join(', ');
    console.log(
      `SIP edge "${name}" running (pid ${edge.pid()}): ${edge.options.host}:${edge.options.port} → ${nodes}; ` +
        `${edge.options.agents.length} agents may register; log ${edge.logFile}`,
    );
    return 0;
  }
  if (action === 'render') {
    // For a service manager that runs Kamailio itself (systemd: ExecStartPre render, ExecStart kamailio -DD).
    await edge.render();
    console.log(`${edge.dir}/kamailio.cfg`);
    return 0;
  }
  if (action === 'down') {
    await edge.stop();
    console.log(`SIP edge "${name}" stopped`);
    return 0;
  }
  if (action === 'status') {
    if (!edge.isRunning()) {
      console.log(`${name}\tstopped`);
      return 0;
    }
    console.log(`${name}\trunning (pid ${edge.pid()}) on ${edge.options.host}:${edge.options.port}`);
    for (const n of await edge.nodes())
      console.log(`  node ${n.uri}\t${n.active ? 'active' : 'inactive'} (${n.flags})`);
    const regs = await edge.registrations();
    console.log(`  ${regs.size} agents registered${regs.size ? `: ${[...regs.keys()].sort().join(' ')}` : ''}`);
    return 0;
  }
  console.error('usage: rexian edge up|down|status|render [--name NAME]');
  return 2;
}
