// Supervision's one way in: monitor, whisper, barge and take over, the live calls list, and the
// supervisors' own browser seats (sup-<name>, pushed into Asterisk on first use and on every
// connect). Its channels are a member of a call's event path (calls/event-path.ts).
import type { AcdDomain } from '../acd/module.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { registerSupervisionRoutes } from './routes.js';
import { SupervisorSeats } from './seats.js';
import { SupervisionService } from './service.js';

export interface SupervisionDomain extends Domain {
  service: SupervisionService;
  seats: SupervisorSeats;
}

export function createSupervision(core: Core, deps: { acd: AcdDomain }): SupervisionDomain {
  const { ari, calls, redis, prefix, logger } = core;
  const seats = new SupervisorSeats(ari, redis, prefix, () => core.config.acd.agentSipSecret, logger, core.seatEdge);
  const service = new SupervisionService({
    ari,
    calls,
    acd: deps.acd.service,
    redis,
    prefix,
    logger,
    privacy: core.privacy,
    seats,
  });
  registerSupervisionRoutes(core.app, service, calls, deps.acd.teamOf, core.authn, core.forwarder);
  return { name: 'supervision', service, seats };
}
