// The ops page's calls to the flow and config API (src/ivr/routes.ts, src/config/reload-status.ts),
// typed with the server's own shapes. The picture is SVG text, not JSON, so it has its own fetch;
// its failures read like every other API error (ApiError with the API's code).
import type { ConfigStatusView } from '../../src/config/reload-status.js';
import type {
  CheckRequest,
  CheckView,
  FlowListView,
  SimulateRequest,
  SimulationView,
} from '../../src/ivr/flow-api-types.js';
import { api, ApiError } from '../shared/api';

export type { CheckView, ConfigStatusView, FlowListView, SimulateRequest, SimulationView };
export type { FlowFileView, FlowIssueView } from '../../src/ivr/flow-api-types.js';

export const loadFlows = (): Promise<FlowListView> => api<FlowListView>('GET', '/api/flows');

export const loadConfigStatus = (): Promise<ConfigStatusView> => api<ConfigStatusView>('GET', '/api/config/status');

export const simulateFlow = (flowId: string, request: SimulateRequest): Promise<SimulationView> =>
  api<SimulationView>('POST', `/api/flows/${encodeURIComponent(flowId)}/simulate`, request);

export const checkFlow = (request: CheckRequest): Promise<CheckView> =>
  api<CheckView>('POST', '/api/flows/check', request);

/** The picture of the version serving (the server has sanitized it; the page does so again). */
export async function loadPicture(flowId: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`/api/flows/${encodeURIComponent(flowId)}/graph.svg`, { credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', {}, (err as Error).message);
  }
  const text = await res.text();
  if (!res.ok) {
    let e: { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
    try {
      e = (JSON.parse(text) as { error?: typeof e }).error;
    } catch {
      e = undefined;
    }
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.details ?? {}, e?.message ?? res.statusText);
  }
  return text;
}

/** Only what the form filled in: an empty field means "the flow's default" (first number, now, a test caller). */
export function cleanRequest(fields: { did: string; keys: string; time: string; caller: string }): SimulateRequest {
  const out: SimulateRequest = {};
  if (fields.did.trim()) out.did = fields.did.trim();
  if (fields.keys.trim()) out.keys = fields.keys.replace(/\s+/g, '');
  if (fields.time.trim()) out.time = fields.time.trim();
  if (fields.caller.trim()) out.caller = fields.caller.trim();
  return out;
}
