// The events domain's lifecycle: the relay of agents' call events between controllers
// (./relay.ts). The catalogue and the notifier are the core's (src/core.ts).
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { EventRelay } from './relay.js';

export function createEvents(core: Core): Domain {
  const relay = new EventRelay({
    redis: core.redis,
    prefix: core.prefix,
    controllerId: core.controllerId,
    notifier: core.notifier,
    logger: core.logger,
  });
  return { name: 'events', start: () => relay.start(), stop: () => relay.stop() };
}
