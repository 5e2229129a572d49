// The SIP edge's files, rendered from its options: Kamailio's configuration
// (sip-config/kamailio.cfg.tmpl), the dispatcher's node list, the password table (agents and
// supervisors' seats) and the token the controllers update that table with.
// Pure and deterministic (same options, same bytes, whatever the order agents come in), so
// a unit test pins it and a re-render of an unchanged roster changes nothing on disk.
import { isIP } from 'node:net';

/** One Asterisk node behind the edge: where its PJSIP UDP transport listens. */
export interface EdgeNode {
  name: string;
  host: string;
  port: number;
}

export interface EdgeAgent {
  id: string;
  /** The agent's SIP password (src/acd/roster.ts agentSipPassword). */
  password: string;
}

/** A seat that is not an agent's: a supervisor's browser phone (`sup-<name>`). */
export interface EdgeSeat {
  /** The SIP user, endpoint and AOR name. */
  user: string;
  password: string;
}

/**
 * The listener the controllers keep the running edge's password table up to date on (an agent
 * added through the API, a supervisor's seat made on first use): JSON-RPC over HTTP, POST /seats,
 * only `htable.sets` / `htable.delete` of that table, only from `controllers`, only with the token.
 */
export interface EdgeSeatRpc {
  port: number;
  /** Bearer token (src/edge/seat-client.ts edgeSeatToken: derived from acd.agentSipSecret). */
  token: string;
  /** Source addresses the controllers call from (IPv4 or IPv6 literals). */
  controllers: string[];
}

export interface EdgeRenderOptions {
  host: string;
  port: number;
  /**
   * TCP port of the WebSocket listener browsers' phones register on (ws://host:wsPort, the page
   * gets it as acd.webrtcUrl). None: no WebSocket listener, browsers cannot register here.
   */
  wsPort?: number;
  nodes: EdgeNode[];
  /** Source addresses a carrier's new calls may come from (IPv4 or IPv6 literals). */
  carriers: string[];
  agents: EdgeAgent[];
  /** Supervisors' seats made so far (the controllers add later ones over `rpc`). */
  seats?: EdgeSeat[];
  /** None: the table changes only when the edge is rendered again. */
  rpc?: EdgeSeatRpc;
  /** Digest realm of agents' registrations. */
  realm: string;
  /** Where the instance keeps its files (the ctl socket and the db_text table live there). */
  dir: string;
  /** Seconds between OPTIONS probes (default 1). */
  pingIntervalSeconds?: number;
  /** Unanswered probes that mark a node inactive (default 2). */
  probingThreshold?: number;
  /** tm's fr_timer in ms, which also bounds a probe (default 1500). */
  frTimerMs?: number;
  /** Kamailio's debug level: 1 errors … 3 debug (default 2). */
  logLevel?: number;
  children?: number;
}

export interface EdgeFiles {
  'kamailio.cfg': string;
  'dispatcher.list': string;
  /** db_text table of SIP user → password (written 0600). */
  'db/agents': string;
  'db/version': string;
  /** The seat listener's token, included by kamailio.cfg (written 0600 like the table). */
  'rpc-token.cfg': string;
}

const agentIdPattern = /^[0-9A-Za-z_-]{1,32}$/;
/** src/supervision/seats.ts supervisorEndpoint: `sup-<name>` or `sup-x<hash>`. */
export const seatUserPattern = /^sup-[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** db_text separates columns with ':' and escapes with '\': derived passwords are base64url. */
const passwordPattern = /^[0-9A-Za-z_-]+$/;
const hostPattern = /^[0-9A-Za-z.:_-]+$/;

export class EdgeConfigError extends Error {
  override name = 'EdgeConfigError';
}

/** The AOR contact an Asterisk node rings an agent at when the edge is in front of it. */
export function edgeAgentContact(agentId: string, edge: { host: string; port: number }): string {
  return edgeSeatContact(`agent-${agentId}`, edge);
}

/** The same for any seat registered at the edge (a supervisor's `sup-<name>`). */
export function edgeSeatContact(user: string, edge: { host: string; port: number }): string {
  return `sip:${user}@${uriHost(edge.host)}:${edge.port}`;
}

export function renderEdge(template: string, o: EdgeRenderOptions): EdgeFiles {
  checkHost('edge host', o.host);
  checkPort('edge port', o.port);
  if (o.wsPort !== undefined) {
    checkPort('edge wsPort', o.wsPort);
    if (o.wsPort === o.port) throw new EdgeConfigError(`edge wsPort ${o.wsPort} must differ from the SIP port`);
  }
  if (o.nodes.length === 0) throw new EdgeConfigError('the edge needs at least one Asterisk node');
  for (const n of o.nodes) {
    if (!/^[a-z0-9-]+$/.test(n.name))
      throw new EdgeConfigError(`node name "${n.name}" must be lower-case letters, digits and dashes`);
    checkHost(`node ${n.name} host`, n.host);
    checkPort(`node ${n.name} port`, n.port);
  }
  if (o.carriers.length === 0) throw new EdgeConfigError('the edge needs at least one carrier address');
  for (const c of o.carriers)
    if (isIP(c) === 0) throw new EdgeConfigError(`carrier address "${c}" must be an IPv4 or IPv6 address`);
  if (!/^[0-9A-Za-z.-]+$/.test(o.realm)) throw new EdgeConfigError(`realm "${o.realm}" must be a host-like name`);
  const agents = [...o.agents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const a of agents) {
    if (!agentIdPattern.test(a.id))
      throw new EdgeConfigError(`agent id "${a.id}" may hold only letters, digits, _ and - (1–32)`);
    if (!passwordPattern.test(a.password))
      throw new EdgeConfigError(`agent ${a.id}: the SIP password must be base64url (letters, digits, _ and -)`);
  }
  if (new Set(agents.map((a) => a.id)).size !== agents.length)
    throw new EdgeConfigError('an agent id appears twice in the edge roster');
  const seats = [...(o.seats ?? [])].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  for (const s of seats) {
    if (!seatUserPattern.test(s.user))
      throw new EdgeConfigError(`seat "${s.user}" must be sup- and letters, digits, ., _ or - (1–64)`);
    if (!passwordPattern.test(s.password))
      throw new EdgeConfigError(`seat ${s.user}: the SIP password must be base64url (letters, digits, _ and -)`);
  }
  if (new Set(seats.map((s) => s.user)).size !== seats.length)
    throw new EdgeConfigError('a seat appears twice in the edge roster');
  const rpc = o.rpc;
  if (rpc) {
    checkPort('edge rpcPort', rpc.port);
    if (rpc.port === o.port || rpc.port === o.wsPort)
      throw new EdgeConfigError(`edge rpcPort ${rpc.port} must differ from the SIP and WebSocket ports`);
    if (!/^[0-9A-Za-z_-]{16,}$/.test(rpc.token))
      throw new EdgeConfigError('the edge seat token must be 16 or more letters, digits, _ and -');
    if (rpc.controllers.length === 0) throw new EdgeConfigError('edge controllers: at least one address');
    for (const c of rpc.controllers)
      if (isIP(c) === 0) throw new EdgeConfigError(`controller address "${c}" must be an IPv4 or IPv6 address`);
  }

  const vars: Record<string, string> = {
    host: o.host,
    port: String(o.port),
    realm: o.realm,
    ctl_socket: `${o.dir}/kamailio.ctl`,
    db_dir: `${o.dir}/db`,
    dispatcher_list: `${o.dir}/dispatcher.list`,
    ping_interval_s: String(o.pingIntervalSeconds ?? 1),
    probing_threshold: String(o.probingThreshold ?? 2),
    fr_timer_ms: String(o.frTimerMs ?? 1500),
    log_level: String(o.logLevel ?? 2),
    children: String(o.children ?? 4),
    ws_listen:
      o.wsPort === undefined
        ? '# no WebSocket listener (no wsPort): browsers register at a node'
        : `listen=tcp:${o.host}:${o.wsPort}`,
    // 0 matches no listener: every HTTP request is refused.
    ws_port: String(o.wsPort ?? 0),
    rpc_listen:
      rpc === undefined
        ? '# no seat listener (no rpcPort): the table changes only when the edge is rendered again'
        : `listen=tcp:${o.host}:${rpc.port}`,
    rpc_port: String(rpc?.port ?? 0),
    rpc_token_file: `${o.dir}/rpc-token.cfg`,
    rpc_controller_test: rpc ? `(${rpc.controllers.map((c) => `$si == "${c}"`).join(' || ')})` : '($si == "0.0.0.0")', // never reached: no listener has port 0
    carrier_test: `(${o.carriers.map((c) => `$si == "${c}"`).join(' || ')})`,
  };
  const cfg = template.replace(/\{\{([a-z_]+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new EdgeConfigError(`kamailio.cfg.tmpl: unknown placeholder {{${key}}}`);
    return value;
  });
  const list = [
    '# rexian: the Asterisk nodes behind the edge (set 1), rendered by src/edge/render.ts',
    '# setid destination flags priority attributes',
    ...o.nodes.map((n) => `1 sip:${uriHost(n.host)}:${n.port} 0 0 duid=${n.name}`),
    '',
  ].join('\n');
  const table = [
    'key_name(str) key_type(int) value_type(int) key_value(str) expires(int)',
    ...agents.map((a) => `agent-${a.id}:0:0:${a.password}:0`),
    ...seats.map((s) => `${s.user}:0:0:${s.password}:0`),
    '',
  ].join('\n');
  return {
    'kamailio.cfg': cfg,
    'dispatcher.list': list,
    'db/agents': table,
    'db/version': 'table_name(str) table_version(int)\nagents:1\n',
    // A preprocessor substitution, so the token is in no line of kamailio.cfg.
    'rpc-token.cfg': `#!substdef "!EDGE_SEAT_TOKEN!${rpc?.token ?? 'none'}!"\n`,
  };
}

export function uriHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function checkHost(what: string, host: string): void {
  if (!hostPattern.test(host)) throw new EdgeConfigError(`${what} "${host}" is not a host name or address`);
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new EdgeConfigError(`${what} ${port} is not a port (1–65535)`);
}
