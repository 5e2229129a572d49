// `rexian edge up|down|status|render`: the SIP edge (Kamailio) on this machine, configured from the
// same configuration as the controller and `rexian asterisk up` (the roster, its derived SIP
// passwords, the nodes' SIP addresses), so the edge and the nodes always agree. Seats made
// through the controllers (API agents, supervisors' seats) are read from Redis when the edge is
// rendered; the controllers add the ones made later over the seat listener.
import { Redis } from 'ioredis';

import { apiRosterKey } from '../acd/provisioning.js';
import { agentSipPassword, parseRoster } from '../acd/roster.js';
import { type Config, loadConfig } from '../config/index.js';
import { EdgeInstance } from '../edge/instance.js';
import type { EdgeAgent, EdgeSeat } from '../edge/render.js';
import { edgeSeatRpc } from '../edge/seat-client.js';
import { redact, redisOptions } from '../store/redis.js';
import { supervisorEndpoint, supervisorSeatsKey, supervisorSipPassword } from '../supervision/seats.js';

export interface MadeSeats {
  agents: EdgeAgent[];
  seats: EdgeSeat[];
}

export function edgeFor(config: Config, name: string, made: MadeSeats = { agents: [], seats: [] }): EdgeInstance {
  const edge = config.edge;
  if (!edge)
    throw new Error('no edge block in the configuration: set edge.host and edge.port (docs: README "SIP edge")');
  const secret = config.acd.agentSipSecret;
  // The roster's and the API's agents: an id in both is the roster's (the same derived password).
  const agents = new Map([...made.agents, ...rosterAgents(config)].map((a) => [a.id, a]));
  return new EdgeInstance({
    name,
    host: edge.host,
    port: edge.port,
    wsPort: edge.wsPort,
    nodes: edge.nodes ?? [{ name: 'local', host: config.sip.host, port: config.sip.port }],
    carriers: edge.carriers ?? ['127.0.0.1'],
    realm: edge.realm ?? 'rexian',
    agents: [...agents.values()],
    seats: made.seats,
    ...(secret ? { rpc: edgeSeatRpc(edge, secret) } : {}),
  });
}

/** The roster's agents with their derived SIP passwords (the edge authenticates their REGISTERs). */
function rosterAgents(config: Config): EdgeAgent[] {
  const roster = parseRoster(config.acd.agents);
  if (roster.agents.size === 0) return [];
  const secret = config.acd.agentSipSecret;
  if (!secret)
    throw new Error("REXIAN_AGENT_SIP_SECRET (8 characters or more) is needed for the agents' SIP passwords");
  return [...roster.agents.keys()].map((id) => ({ id, password: agentSipPassword(secret, id) }));
}

/**
 * The seats the controllers made (agents added through the API, supervisors' seats), from Redis.
 * Redis out of reach is no reason to keep the edge down: it starts with the roster's agents and
 * says what it could not read (the controllers add seats as they are made, not the older ones).
 */
export async function madeSeats(config: Config, timeoutMs = 3_000): Promise<MadeSeats & { problem?: string }> {
  const secret = config.acd.agentSipSecret;
  if (!secret) return { agents: [], seats: [] };
  const { url, options } = redisOptions(config.redis);
  // Fail, never wait: one try to connect (to the sentinels too), then the reads, each step given
  // half of timeoutMs by ioredis itself (a Redis that takes the connection and never answers
  // holds the connect for its whole timeout).
  const settings = {
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    connectTimeout: timeoutMs / 2,
    commandTimeout: timeoutMs / 2,
    // The ready check's INFO is not bound by commandTimeout; the reads below are.
    enableReadyCheck: false,
  };
  const redis = url ? new Redis(url, settings) : new Redis(settings);
  redis.on('error', () => undefined); // the read below says what went wrong
  try {
    await redis.connect();
    const [api, sups] = await Promise.all([
      redis.hgetall(apiRosterKey(config.redis.prefix)),
      redis.hgetall(supervisorSeatsKey(config.redis.prefix)),
    ]);
    return {
      agents: Object.keys(api).map((id) => ({ id, password: agentSipPassword(secret, id) })),
      seats: Object.keys(sups).map((n) => ({
        user: supervisorEndpoint(n),
        password: supervisorSipPassword(secret, n),
      })),
    };
  } catch (err) {
    const where = config.redis.sentinels?.length
      ? `the sentinels' master ${config.redis.masterName}`
      : redact(url ?? '');
    return { agents: [], seats: [], problem: `${where}: ${(err as Error).message}` };
  } finally {
    redis.disconnect();
  }
}

export async function edgeCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const i = rest.indexOf('--name');
  const name = i >= 0 ? (rest[i + 1] ?? 'local') : 'local';
  const config = loadConfig();
  let made: MadeSeats = { agents: [], seats: [] };
  if (action === 'up' || action === 'render') {
    const read = await madeSeats(config);
    if (read.problem)
      console.error(
        `rexian edge: could not read the API's agents and supervisors' seats from Redis (${read.problem}): ` +
          'starting with the roster only; run `rexian edge up` again once Redis answers',
      );
    made = read;
  }
  const edge = edgeFor(config, name, made);
  if (action === 'up') {
    await edge.render();
    await edge.stop();
    await edge.start();
    const nodes = edge.options.nodes.map((n) => `${n.name} ${n.host}:${n.port}`).join(', ');
    console.log(
      `SIP edge "${name}" running (pid ${edge.pid()}): ${edge.options.host}:${edge.options.port} → ${nodes}; ` +
        `${edge.options.agents.length} agents and ${edge.options.seats?.length ?? 0} supervisors' seats may register; ` +
        `log ${edge.logFile}`,
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
