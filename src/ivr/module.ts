// The IVR's one way in: the flows (loaded, checked, watched: a broken edit keeps the last good
// version serving), the runner that plays them on calls, the surveys, the flow API. The runner
// is the last member of a call's event path and the hand-offs back to a flow
// (calls/event-path.ts): server.ts gives both to the calls domain.
import type { AcdService } from '../acd/service.js';
import { requireRole } from '../api/auth.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import type { MaskedCalls } from '../masking/calls.js';
import type { CallbackTasks } from './callbacks.js';
import { FlowRegistry } from './registry.js';
import { registerFlowRoutes } from './routes.js';
import { IvrRunner } from './runner.js';
import { SurveyAnswers } from './surveys.js';
import { redisVersionStore } from './version-store.js';

export interface IvrDomain extends Domain {
  registry: FlowRegistry;
  runner: IvrRunner;
}

export function createIvr(
  core: Core,
  deps: { acd: AcdService; callbacks: CallbackTasks; masking: MaskedCalls },
): IvrDomain {
  const { config, logger } = core;
  const registry = new FlowRegistry(
    {
      flowsDir: config.flows.dir,
      queuesFile: config.flows.queues,
      promptCatalog: config.prompts.catalog,
      recordedDir: config.prompts.recordedDir,
    },
    logger,
    redisVersionStore(core.redis, core.prefix),
  );
  registry.reload();
  if (registry.calendarProblem) throw new Error(`cannot start without a working calendar: ${registry.calendarProblem}`);
  registry.watch();
  const runner = new IvrRunner({
    registry,
    prompts: core.prompts,
    acd: deps.acd,
    callbacks: deps.callbacks,
    surveys: new SurveyAnswers(core.redis, core.prefix),
    outboundFlow: config.dialer.flow,
    masking: deps.masking,
    logger,
  });
  registerFlowRoutes(core.app, registry, requireRole(core.authn, 'ops'));
  return { name: 'ivr', registry, runner, stop: () => registry.close() };
}
