// GET /api/session/phone: the signed-in agent's own browser-phone credentials (the WebSocket
// of Asterisk's HTTP server, the SIP URI, the auth user and the password derived from
// REXIAN_AGENT_SIP_SECRET). Only an agent's or a supervisor's session or token gets them, and
// only its own: the route takes no id, so no one can ask for another seat's password. Each hand-out
// is written to the sign-in audit stream and logged with the agentId (never the password).
// `autoAnswer` is the roster's: the page answers by itself (after a short beep) when it is set.
// A supervisor gets their own seat's (src/supervision/seats.ts, `sup-<name>`), found from the
// session's name alone, always answering by itself: the only calls it gets are the
// supervisions its owner asked for.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

import { agentSipPassword } from '../acd/roster.js';
import { type Authenticator, requireRole } from '../api/auth.js';
import { RexianError } from '../errors/index.js';
import type { SignInAudit } from './audit.js';

/** For a `sip` device (a desk phone or headset) only `device`: the page is a control panel. */
export interface PhoneCredentials {
  device: 'sip' | 'webrtc';
  wsUrl: string;
  sipUri: string;
  authUser: string;
  password: string;
  displayName: string;
  /** The roster says this seat answers by itself (the page beeps, then answers). */
  autoAnswer: boolean;
}

export type PhoneAnswer = PhoneCredentials | { device: 'sip' };

export interface PhoneRouteDeps {
  authn: Authenticator;
  audit: SignInAudit;
  logger: Logger;
  /** The master secret the agents' SIP passwords derive from (acd.agentSipSecret). */
  sipSecret: () => string | undefined;
  /** Asterisk's HTTP server as the controller reaches it (ari.url); its /ws serves browsers. */
  ariUrl: () => string;
  /** The roster's device of an agent, undefined when not on the roster. */
  agentDevice: (agentId: string) => 'sip' | 'webrtc' | undefined;
  /** The roster's autoAnswer of an agent (false when not wired or not set). */
  agentAutoAnswer?: (agentId: string) => boolean;
  /** acd.webrtcUrl: where browsers reach Asterisk's WebSocket, when that is not where the controller does. */
  webrtcUrl?: () => string | undefined;
  /** A supervisor's own browser seat (made and pushed into Asterisk on first use); unset: none. */
  supervisorSeat?: (name: string) => Promise<{ endpoint: string; password: string }>;
}

/**
 * Browsers reach the same HTTP server Asterisk serves ARI on: ws:// for http://, wss:// for
 * https:// (production puts TLS in front), path /ws (res_http_websocket).
 */
export function webSocketUrl(ariUrl: string): string {
  const url = new URL(ariUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/ws';
  return url.toString();
}

export function registerPhoneRoute(app: FastifyInstance, deps: PhoneRouteDeps): void {
  app.get(
    '/api/session/phone',
    {
      onRequest: requireRole(deps.authn, 'agent', 'supervisor'),
      schema: {
        tags: ['sign-in'],
        summary:
          "The signed-in agent's (or supervisor's) own browser-phone credentials (WebSocket URL, SIP URI, password)",
        security: [{ bearer: [] }],
      },
    },
    async (req: FastifyRequest, reply) => {
      const principal = req.principal!;
      if (principal.role === 'supervisor' && deps.supervisorSeat) return supervisorPhone(deps, req, reply);
      const agentId = principal.agentId;
      if (!agentId) throw new RexianError('REXIAN_FORBIDDEN', { role: principal.role }, 'only an agent has a phone');
      const device = deps.agentDevice(agentId);
      if (!device) throw new RexianError('REXIAN_FORBIDDEN', { agentId }, `agent ${agentId} is not on the roster`);
      if (device === 'sip') return reply.header('cache-control', 'no-store').send({ device } satisfies PhoneAnswer);
      const secret = deps.sipSecret();
      if (!secret)
        throw new RexianError(
          'REXIAN_NOT_READY',
          {},
          'agents have no SIP passwords without acd.agentSipSecret (REXIAN_AGENT_SIP_SECRET)',
        );
      const wsUrl = deps.webrtcUrl?.() ?? webSocketUrl(deps.ariUrl());
      const authUser = `agent-${agentId}`;
      const body: PhoneCredentials = {
        device,
        wsUrl,
        authUser,
        sipUri: `sip:${authUser}@${new URL(wsUrl).hostname}`,
        password: agentSipPassword(secret, agentId),
        displayName: agentId,
        autoAnswer: deps.agentAutoAnswer?.(agentId) ?? false,
      };
      const ua = req.headers['user-agent'];
      await deps.audit.record(
        { event: 'phone-credentials', name: principal.name, agentId },
        { address: req.ip, ...(ua ? { userAgent: ua } : {}) },
      );
      deps.logger.info({ agentId, device }, 'phone credentials handed to the agent');
      return reply.header('cache-control', 'no-store').send(body);
    },
  );
}

/** A supervisor's own seat: never anyone else's, audited like an agent's. */
async function supervisorPhone(deps: PhoneRouteDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const principal = req.principal!;
  if (!deps.sipSecret())
    throw new RexianError(
      'REXIAN_NOT_READY',
      {},
      'supervisors have no SIP passwords without acd.agentSipSecret (REXIAN_AGENT_SIP_SECRET)',
    );
  const seat = await deps.supervisorSeat!(principal.name);
  const wsUrl = deps.webrtcUrl?.() ?? webSocketUrl(deps.ariUrl());
  const body: PhoneCredentials = {
    device: 'webrtc',
    wsUrl,
    authUser: seat.endpoint,
    sipUri: `sip:${seat.endpoint}@${new URL(wsUrl).hostname}`,
    password: seat.password,
    displayName: principal.name,
    autoAnswer: true,
  };
  const ua = req.headers['user-agent'];
  await deps.audit.record(
    { event: 'phone-credentials', name: principal.name, role: principal.role, endpoint: seat.endpoint },
    { address: req.ip, ...(ua ? { userAgent: ua } : {}) },
  );
  deps.logger.info(
    { supervisor: principal.name, endpoint: seat.endpoint },
    'phone credentials handed to the supervisor',
  );
  return reply.header('cache-control', 'no-store').send(body);
}
