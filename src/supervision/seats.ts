// Supervisors' own browser phones. Each supervisor (and admin) who asks for their phone gets a
// WebRTC seat of their own, PJSIP endpoint `sup-<name>`, its password derived from
// acd.agentSipSecret as agents' are (HMAC of `supervisor:<name>`, so no password is stored).
// The seat is pushed into Asterisk the way API-added agents are (src/acd/provisioning.ts:
// sorcery's memory wizard): when the person first asks for it, and again on every ARI
// (re)connect, since Asterisk forgets pushed objects when it restarts. Redis keeps the names
// of the seats made, so every controller pushes them all after a connect. Behind a SIP edge
// the seat registers at the edge like an agent's browser: its AOR points there, the running
// edge gets the password when the seat is made, and the edge reads the names when it starts.
//
// A person's name may hold any letter (张班长); a SIP user and an endpoint name should not, so
// a name outside [A-Za-z0-9._-] becomes `sup-x<hash>`: the same name always gives the same seat.
import { createHash, createHmac } from 'node:crypto';

import type { Logger } from 'pino';

import { endpointFields, pushSeat } from '../acd/provisioning.js';
import type { AriClient } from '../asterisk/ari.js';
import { endpointDialString } from '../calls/dial-string.js';
import { edgeSeatContact } from '../edge/render.js';
import type { SeatEdge } from '../edge/seat-client.js';
import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';

export interface SupervisorSeat {
  /** The PJSIP endpoint, its auth user and AOR: `sup-<name>`. */
  endpoint: string;
  password: string;
}

/** The endpoint of a supervisor's browser seat. */
export function supervisorEndpoint(name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) return `sup-${name}`;
  return `sup-x${createHash('sha256').update(name).digest('hex').slice(0, 20)}`;
}

export function supervisorSipPassword(masterSecret: string, name: string): string {
  return createHmac('sha256', masterSecret).update(`supervisor:${name}`).digest('base64url').slice(0, 24);
}

/** Redis hash of the seats made: person's name → endpoint (`rexian edge` reads it too). */
export function supervisorSeatsKey(prefix: string): string {
  return `${prefix}:supervisor-seats`;
}

export class SupervisorSeats {
  private readonly pushed = new Set<string>();

  constructor(
    private readonly ari: AriClient,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly sipSecret: () => string | undefined,
    private readonly logger: Logger,
    /** The SIP edge the seats register at (config.edge); none: they register at a node. */
    private readonly edge?: SeatEdge,
  ) {
    // Pushed objects are gone after an Asterisk restart: push every seat again on connect.
    ari.on('connected', () => {
      this.pushed.clear();
      void this.pushAll();
    });
  }

  private get key(): string {
    return supervisorSeatsKey(this.prefix);
  }

  /** The seat of a person, pushed into Asterisk if this controller has not yet. */
  async seat(name: string): Promise<SupervisorSeat> {
    const secret = this.sipSecret();
    if (!secret)
      throw new RexianError(
        'REXIAN_NOT_READY',
        {},
        "supervisors' browser phones need acd.agentSipSecret (REXIAN_AGENT_SIP_SECRET): it derives their SIP passwords",
      );
    const endpoint = supervisorEndpoint(name);
    endpointDialString(endpoint); // the name we dial must be a safe one, whatever the person's name
    const seat = { endpoint, password: supervisorSipPassword(secret, name) };
    if (!this.pushed.has(endpoint)) {
      await this.push(name, seat);
      await this.redis.hset(this.key, name, endpoint);
    }
    return seat;
  }

  /** The endpoint a supervisor's own seat has (whether or not it is registered). */
  endpointOf(name: string): string {
    return supervisorEndpoint(name);
  }

  /** Every seat made so far, pushed again (after a connect: Asterisk may have restarted). */
  async pushAll(): Promise<void> {
    const secret = this.sipSecret();
    if (!secret) return;
    for (const name of Object.keys(await this.redis.hgetall(this.key))) {
      const seat = { endpoint: supervisorEndpoint(name), password: supervisorSipPassword(secret, name) };
      await this.push(name, seat).catch((err: unknown) =>
        this.logger.error(
          { supervisor: name, endpoint: seat.endpoint, err: (err as Error).message },
          "could not push a supervisor's SIP endpoint to Asterisk",
        ),
      );
    }
  }

  private async push(name: string, seat: SupervisorSeat): Promise<void> {
    const contact = this.edge ? edgeSeatContact(seat.endpoint, this.edge) : undefined;
    await pushSeat(
      this.ari,
      seat.endpoint,
      seat.password,
      endpointFields(seat.endpoint, seat.endpoint, 'webrtc'),
      contact,
    );
    this.pushed.add(seat.endpoint);
    // Once per seat and ARI connect, like the node's copy: an edge that missed it (out of reach
    // when the seat was made) has it again by the next connect, or by its own start.
    await this.edge?.seats?.tell('set', seat.endpoint, seat.password);
    this.logger.info({ supervisor: name, endpoint: seat.endpoint }, "supervisor's SIP endpoint pushed to Asterisk");
  }
}
