// Agents added through the API, next to the roster file: kept in Redis, and their PJSIP
// endpoint, auth and AOR pushed into Asterisk through ARI's push configuration (sorcery's
// memory wizard, see sip-config/sorcery.conf), so a new seat can register at once, without
// a reload. Asterisk forgets pushed objects when it restarts: we push them again on every
// (re)connect. Behind a SIP edge the agent registers there: the edge gets the password too
// (src/edge/seat-client.ts), and reads the saved agents from Redis when it starts.
import type { Logger } from 'pino';

import type { AriClient } from '../asterisk/ari.js';
import { agentEndpoint } from '../asterisk/ids.js';
import { edgeAgentContact } from '../edge/render.js';
import type { SeatEdge } from '../edge/seat-client.js';
import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';
import { type AgentDefinition, agentSipPassword } from './roster.js';

export type Fields = Array<{ attribute: string; value: string }>;

/** The same settings as the agent templates in sip-config/pjsip.conf (a supervisor's browser seat too). */
export function endpointFields(name: string, callerId: string, device: 'sip' | 'webrtc'): Fields {
  const common: Record<string, string> = {
    context: 'from-agents',
    auth: name,
    aors: name,
    callerid: `"${callerId}" <${callerId}>`,
    send_connected_line: 'no',
    dtmf_mode: 'rfc4733',
    disallow: 'all',
  };
  const media: Record<string, string> =
    device === 'webrtc'
      ? { allow: 'opus,alaw,ulaw', webrtc: 'yes', dtls_auto_generate_cert: 'yes' }
      : { allow: 'alaw,ulaw', direct_media: 'no', rtp_symmetric: 'yes', force_rport: 'yes', rewrite_contact: 'yes' };
  return Object.entries({ ...common, ...media }).map(([attribute, value]) => ({ attribute, value }));
}

/** Where the agents added through the API are kept (`rexian edge` reads them too). */
export function apiRosterKey(prefix: string): string {
  return `${prefix}:roster:api`;
}

export class AgentProvisioning {
  constructor(
    private readonly ari: AriClient,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sipSecret: string | undefined,
    private readonly logger: Logger,
    /** The SIP edge (config.edge): behind it every phone registers there and every node rings it through it. */
    private readonly edge?: SeatEdge,
  ) {}

  private get key(): string {
    return apiRosterKey(this.prefix);
  }

  /** Agents added through the API. */
  async agents(): Promise<AgentDefinition[]> {
    return Object.values(await this.redis.hgetall(this.key)).map((raw) => JSON.parse(raw) as AgentDefinition);
  }

  async save(agent: AgentDefinition): Promise<{ sipUsername: string; sipPassword: string }> {
    if (!this.sipSecret) {
      throw new RexianError(
        'REXIAN_NOT_READY',
        {},
        'agents cannot be added without acd.agentSipSecret (REXIAN_AGENT_SIP_SECRET): it derives their SIP passwords',
      );
    }
    await this.push(agent);
    await this.redis.hset(this.key, agent.id, JSON.stringify(agent));
    return { sipUsername: agentEndpoint(agent.id), sipPassword: agentSipPassword(this.sipSecret, agent.id) };
  }

  async remove(agentId: string): Promise<void> {
    const name = agentEndpoint(agentId);
    for (const type of ['endpoint', 'auth', 'aor']) {
      await this.ari.asterisk.deleteConfigIfPresent('res_pjsip', type, name);
    }
    await this.redis.hdel(this.key, agentId);
    // After the Redis row: an edge that misses this gets it when it answers again (the client
    // retries), or forgets the agent when it starts again.
    await this.edge?.seats?.tell('remove', name);
  }

  /** Pushes every API agent into Asterisk again (after a connect: Asterisk may have restarted). */
  async pushAll(): Promise<void> {
    for (const agent of await this.agents()) {
      await this.push(agent).catch((err: unknown) =>
        this.logger.error(
          { agentId: agent.id, err: (err as Error).message },
          "could not push an agent's SIP endpoint to Asterisk",
        ),
      );
    }
  }

  private async push(agent: AgentDefinition): Promise<void> {
    const name = agentEndpoint(agent.id);
    const password = agentSipPassword(this.sipSecret!, agent.id);
    // Behind the SIP edge every phone registers at the edge (a browser's over its WebSocket): the
    // AOR's fixed contact points there, so PJSIP/agent-<id> on any node reaches it.
    const contact = this.edge ? edgeAgentContact(agent.id, this.edge) : undefined;
    await pushSeat(this.ari, name, password, endpointFields(name, agent.id, agent.device), contact);
    // On every push, as the node's: an edge out of reach gets it once it answers (the client retries).
    await this.edge?.seats?.tell('set', name, password);
    this.logger.info({ agentId: agent.id, device: agent.device }, 'agent SIP endpoint pushed to Asterisk');
  }
}

/** Pushes one seat's auth, AOR and endpoint into Asterisk (an API agent's, a supervisor's). */
export async function pushSeat(
  ari: AriClient,
  name: string,
  password: string,
  endpoint: Fields,
  contact?: string,
): Promise<void> {
  const put = (type: string, fields: Fields): Promise<unknown> =>
    ari.asterisk.pushConfig('res_pjsip', type, name, fields);
  // Order matters: the endpoint names its auth and AOR, which must exist first.
  await put('auth', [
    { attribute: 'auth_type', value: 'userpass' },
    { attribute: 'username', value: name },
    { attribute: 'password', value: password },
  ]);
  await put('aor', [
    { attribute: 'max_contacts', value: '1' },
    { attribute: 'remove_existing', value: 'yes' },
    ...(contact ? [{ attribute: 'contact', value: contact }] : []),
  ]);
  await put('endpoint', endpoint);
}
