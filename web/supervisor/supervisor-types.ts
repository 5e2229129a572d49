// The API shapes the supervisor page reads, type-only and from the server's own sources where
// they exist: agents (GET /api/agents), an agent's call (GET /api/agents/:id/call) and day
// (GET /api/agents/:id/day), the live calls (GET /api/calls), staffing by half hour
// (GET /api/reports/staffing), the alerts (engineer H7's src/alerts/types.ts).
import type { WindowServiceLevel } from '../../src/alerts/window.js';

export type { AgentView } from '../../src/acd/agents.js';
export type { AgentDay } from '../../src/reports/agent-day.js';
export type { StaffingReport, StaffingRow } from '../../src/reports/staffing.js';
export type { LiveCallView } from '../../src/supervision/service.js';
export type { AgentCallView, OverallFigures, QueueFigures } from '../shared/types';

/** What a not-ready reason is (GET /api/not-ready-reasons). */
export interface NotReadyReason {
  code: string;
  label: string;
}

export type SupervisionMode = 'monitor' | 'whisper' | 'barge';

/** Alerts (engineer H7): as GET /api/alerts keeps them and the stream tells them. */
export type {
  ActiveAlert,
  AlertAcknowledgedEvent,
  AlertClearedEvent,
  AlertFiredEvent,
  AlertMessage,
} from '../../src/events/catalogue.js';
/**
 * GET /api/alerts/figures: service level over the last minutes, per queue and overall. Written
 * as src/alerts/routes.ts has it (importing that file would bring fastify's types to the pages).
 */
export interface RecentFigures {
  minutes: number;
  coveredSeconds: number;
  queues: Array<{ queue: string; name: string; serviceLevel: WindowServiceLevel[] }>;
  overall: { serviceLevel: WindowServiceLevel[] };
}
