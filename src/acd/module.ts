// The ACD's one way in: queues, agents and routing, built from the core and the recordings.
// It owns its live settings (queues, roster, windows: ./settings.ts), the callback tasks the
// IVR and the dialer share, the agents' desk (state, API-added seats), and the feeds to the
// event stream: every agent's state change (from any controller) and the queue figures.
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import type { QueueFigures } from '../events/catalogue.js';
import { CallbackTasks } from '../ivr/callbacks.js';
import type { RecordingService } from '../recording/service.js';
import { AgentStateFeed } from './agent-state-feed.js';
import { AgentDesk } from './agents.js';
import { overallFigures, QueueStats } from './figures.js';
import { AgentProvisioning } from './provisioning.js';
import { Router } from './router.js';
import { allFigures, registerAcdRoutes } from './routes.js';
import { AcdService } from './service.js';
import type { AcdSettings } from './settings.js';
import { WaitingList } from './waiting.js';

export interface AcdDomain extends Domain {
  service: AcdService;
  desk: AgentDesk;
  router: Router;
  stats: QueueStats;
  settings: AcdSettings;
  callbacks: CallbackTasks;
  /** Each queue's live figures (the stream's queue.figures, /metrics, the alerts, the agent's day). */
  figures(): Promise<QueueFigures[]>;
  /** The team of an agent on the roster. */
  teamOf(agentId: string): string | undefined;
}

/** How often agents added through the API by another controller are read again. */
const ROSTER_REFRESH_MS = 5_000;
/** How often the queue figures go to the event stream (while anyone listens). */
const FIGURES_EVERY_MS = 1_000;

export function createAcd(core: Core, deps: { settings: AcdSettings; recordings: RecordingService }): AcdDomain {
  const { redis, prefix, config, logger, notifier } = core;
  const settings = deps.settings;
  const callbacks = new CallbackTasks(redis, prefix);
  const router = new Router(redis, prefix);
  const stats = new QueueStats(redis, prefix);
  const service = new AcdService({
    controllerId: core.controllerId,
    notifier,
    ari: core.ari,
    router,
    stats,
    redis,
    prefix,
    callbacks,
    logger,
    waiting: new WaitingList(redis, prefix),
    recordings: deps.recordings,
    queues: () => settings.queues,
    roster: () => settings.roster,
    windows: () => settings.windows,
    advertiseUrl: core.advertiseUrl,
    speak: (text) => core.prompts.resolve({ text }),
  });
  service.bindCalls(core.calls);
  const provisioning = new AgentProvisioning(core.ari, redis, prefix, config.acd.agentSipSecret, logger, core.seatEdge);
  const refreshRoster = async (): Promise<void> => settings.setApiAgents(await provisioning.agents());
  const desk = new AgentDesk(
    redis,
    prefix,
    router,
    service,
    () => settings.roster,
    provisioning,
    (id) => settings.fileRoster.agents.has(id),
    refreshRoster,
  );
  // Agents pushed into Asterisk are lost when it restarts: push them on every connect.
  core.ari.on('connected', () => void provisioning.pushAll());
  const figures = (): Promise<QueueFigures[]> =>
    allFigures(service, stats, desk, () => [...settings.queues.queues.keys()]);
  registerAcdRoutes(core.app, desk, service, figures, core.authn, () => settings.windows, core.forwarder);

  // Every agent's state change, made by any controller, onto this one's event stream (agent.state).
  const agentStateFeed = new AgentStateFeed({ redis, prefix, notifier, logger });
  let rosterTimer: NodeJS.Timeout | undefined;
  let figuresTimer: NodeJS.Timeout | undefined;
  const publishFigures = (): void => {
    if (!notifier.listened) return;
    void Promise.all([figures(), desk.list()]).then(
      ([queues, agents]) => {
        const byState: Record<string, number> = {};
        for (const a of agents) byState[a.state] = (byState[a.state] ?? 0) + 1;
        notifier.queueFigures(queues, overallFigures(queues, byState));
      },
      () => undefined,
    );
  };

  return {
    name: 'acd',
    service,
    desk,
    router,
    stats,
    settings,
    callbacks,
    figures,
    teamOf: (id) => desk.teamOf(id),
    async start() {
      agentStateFeed.start();
      await refreshRoster();
      await desk.sync();
      // Agents another controller added through the API.
      rosterTimer = setInterval(() => void refreshRoster().catch(() => undefined), ROSTER_REFRESH_MS);
      figuresTimer = setInterval(publishFigures, FIGURES_EVERY_MS);
    },
    activate: () => service.start(),
    deactivate: () => void service.stop(),
    async stop() {
      clearInterval(figuresTimer);
      clearInterval(rosterTimer);
      await agentStateFeed.stop();
      await service.stop();
    },
    prepareReload() {
      const apply = settings.prepareReload();
      return async () => {
        apply();
        await refreshRoster();
        await desk.sync();
        logger.info(
          { queues: settings.queues.queues.size, agents: settings.roster.agents.size },
          'queues, roster and windows reloaded',
        );
      };
    },
  };
}
