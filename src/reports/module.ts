// Reports' one way in: the reports from the call records in PostgreSQL (by line, queue, agent,
// hour, day; JSON or CSV), the staffing report (Erlang C against the measured service levels)
// and an agent's own day.
import type { AcdDomain } from '../acd/module.js';
import type { Core } from '../core.js';
import type { Domain } from '../domain.js';
import { registerAgentDayRoutes } from './agent-day-routes.js';
import { registerReportRoutes } from './routes.js';
import { buildStaffing } from './staffing.js';

export function createReports(core: Core, deps: { acd: AcdDomain }): Domain {
  const { app, pool, authn, redis, prefix } = core;
  const acd = deps.acd;
  registerReportRoutes(app, pool, authn, (queue, date) =>
    buildStaffing(pool, redis, prefix, acd.service.queue(queue), date),
  );
  registerAgentDayRoutes(app, {
    pool,
    authn,
    figures: acd.figures,
    teamOf: acd.teamOf,
    agentSkills: (id) => acd.settings.roster.agents.get(id)?.skills,
    queueSkills: (id) => acd.service.queue(id).skills,
  });
  return { name: 'reports' };
}
