// Where a transfer or a consultation goes (a queue, an agent, a number, a service-centre
// window), and how each is rung: the endpoint, the caller id the other side sees, and the
// label the agent sees. A bad number or an unknown window fails here, before anything moves.
import { agentEndpoint } from '../asterisk/ids.js';
import type { Call } from '../calls/call.js';
import { checkDestination } from '../calls/dial-string.js';
import { RexianError } from '../errors/index.js';
import type { Consult } from './call-state.js';
import type { AcdDeps } from './core.js';
import { findWindow, windowEndpoint } from './windows.js';

/** Where a transfer or a consultation goes: exactly one of these. */
export type TransferTarget = { queue: string } | { agent: string } | { number: string } | { window: string };

/** A party to ring: who it is (as a consultation records it), and how to ring them. */
export type ResolvedTarget = Pick<Consult, 'kind' | 'target' | 'label'> & {
  endpoint: string;
  callerId: (call: Call) => string;
};

export function resolveTarget(
  deps: Pick<AcdDeps, 'pstnEndpoint' | 'roster' | 'windows'>,
  to: Exclude<TransferTarget, { queue: string }>,
): ResolvedTarget {
  const pstn = deps.pstnEndpoint ?? 'pstn';
  if ('agent' in to) {
    const agent = deps.roster().agents.get(to.agent);
    if (!agent) throw new RexianError('REXIAN_UNKNOWN_AGENT', { field: 'agent', agentId: to.agent });
    return {
      kind: 'agent',
      target: agent.id,
      label: `${agent.name} (${agent.id})`,
      endpoint: `PJSIP/${agentEndpoint(agent.id)}`,
      callerId: (call) => `"${call.state.did} 转接" <${call.state.did}>`,
    };
  }
  if ('window' in to) {
    const w = findWindow(deps.windows(), to.window);
    return {
      kind: 'window',
      target: w.id,
      label: w.centre ? `${w.centre} ${w.name}` : w.name,
      endpoint: windowEndpoint(w, pstn),
      callerId: (call) => `"${call.state.did} 热线" <${call.state.did}>`,
    };
  }
  const d = checkDestination('external', to.number, 'number');
  return {
    kind: 'number',
    target: d.number,
    label: d.number,
    endpoint: `PJSIP/${d.number}@${pstn}`,
    callerId: (call) => call.state.did,
  };
}
