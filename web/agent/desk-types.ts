// The API shapes the agent desk reads, type-only: the agent (GET /api/agents/:id, the ACD's
// own AgentView), the current call (GET /api/agents/:id/call, the catalogue's AgentCallView),
// the roster's not-ready reasons and the window directory.
import type { AgentCallView } from '../shared/types';

export type { AgentView } from '../../src/acd/agents.js';
export type { AgentCallView };

/** GET /api/agents/:id/call. */
export interface CurrentCall {
  call: AgentCallView | null;
}

/** GET /api/not-ready-reasons: the roster's reasons (小休, 培训 …). */
export interface NotReadyReason {
  code: string;
  label: string;
}

/** One entry of GET /api/windows (sip-config/windows.yaml). */
export interface ServiceWindow {
  id: string;
  name: string;
  centre?: string;
  number?: string;
  endpoint?: string;
}

/** Where a blind transfer or a consultation goes: exactly one of these (queue: transfer only). */
export type TransferTarget = { queue: string } | { agent: string } | { number: string } | { window: string };
