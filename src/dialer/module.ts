// The dialer's one way in (README "Outbound callbacks"): return visits placed within the hours
// of a calendar schedule at a set pace, agent first or citizen first, masked where the case has
// a binding. It places calls only in the ARI lease's holder; the callback API serves anywhere.
import type { AcdDomain } from '../acd/module.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { RexianError } from '../errors/index.js';
import type { FlowRegistry } from '../ivr/registry.js';
import type { BindingStore } from '../masking/bindings.js';
import { registerDialerRoutes } from './routes.js';
import { Dialer } from './service.js';
import { DialerTasks } from './tasks.js';

export function createDialer(
  core: Core,
  deps: { acd: AcdDomain; registry: FlowRegistry; bindings: BindingStore },
): Domain {
  const { config } = core;
  const { registry } = deps;
  if (config.dialer.enabled && !registry.calendar.scheduleNames.includes(config.dialer.hours)) {
    throw new RexianError(
      'REXIAN_CONFIG_INVALID',
      { key: 'dialer.hours' },
      `dialer.hours names schedule "${config.dialer.hours}", which the calendar does not have (it has: ${registry.calendar.scheduleNames.join(', ')})`,
    );
  }
  const tasks = new DialerTasks(core.redis, core.prefix);
  const dialer = new Dialer({
    ari: core.ari,
    acd: deps.acd.service,
    redis: core.redis,
    virtualNumberOf: async (id) => (await deps.bindings.get(id))?.x,
    prefix: core.prefix,
    tasks,
    callbacksKey: deps.acd.callbacks.key,
    calendar: () => registry.calendar,
    config: config.dialer,
    outbox: core.outbox,
    logger: core.logger,
    consumer: core.controllerId,
  });
  registerDialerRoutes(core.app, tasks, core.authn);
  return {
    name: 'dialer',
    activate: () => dialer.start(),
    deactivate: () => dialer.stop(),
    stop: () => dialer.stop(),
  };
}
