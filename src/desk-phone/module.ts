// Desk phones' one way in (README "Desk phones"): feature codes an agent dials from a SIP phone
// (log in, ready, not ready, log out), taken straight from ARI before any flow sees the call.
import type { AcdDomain } from '../acd/module.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { DeskPhoneFeatures } from './feature-codes.js';

export function createDeskPhone(core: Core, deps: { acd: AcdDomain }): Domain {
  const features = new DeskPhoneFeatures({
    ari: core.ari,
    agents: deps.acd.desk,
    roster: () => deps.acd.settings.roster,
    config: core.config.deskPhone,
    app: core.config.ari.app,
    logger: core.logger,
  });
  // Listening from the start: the ARI client connects (and sends these calls) once the lease is held.
  features.start();
  return { name: 'desk-phone', stop: () => features.stop() };
}
