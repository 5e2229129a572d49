// Recordings' one way in: the service that records talk bridges (the ACD's calls, masked calls,
// emergency hand-offs) and sweeps recordings past their retention, and the routes that search,
// play and download them, every listen audited. The sweeps run in the ARI lease's holder only.
import type { AcdSettings } from '../acd/settings.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { registerRecordingRoutes } from './routes.js';
import { RecordingService } from './service.js';

export interface RecordingDomain extends Domain {
  service: RecordingService;
}

export function createRecording(core: Core, deps: { acdSettings: AcdSettings }): RecordingDomain {
  const service = new RecordingService(
    core.ari,
    core.redis,
    core.prefix,
    core.scope,
    core.controllerId,
    core.config.recording,
    core.logger,
  );
  // A supervisor hears only their teams' agents' recordings.
  const teamOf = (agentId: string): string | undefined => deps.acdSettings.roster.agents.get(agentId)?.team;
  registerRecordingRoutes(core.app, service, teamOf, core.authn, core.forwarder);
  return {
    name: 'recording',
    service,
    activate: () => service.start(),
    deactivate: () => service.stop(),
    stop: () => service.stop(),
  };
}
