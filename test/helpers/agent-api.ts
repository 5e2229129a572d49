// Agents driven through a test's controller API: log in, ready, log out, read the state, and
// put every agent back to logged-out between tests. Takes the controller by getter, because
// tests that kill and restart controllers swap it.
import type { Test } from 'tap';

import type { ControllerProcess } from './controller.js';
import { until } from './lab.js';

export interface AgentApi {
  agent(t: Test, id: string, action: 'login' | 'ready' | 'logout', body?: unknown): Promise<void>;
  agentState(id: string): Promise<string>;
  /** Each test starts with these agents logged out, whatever the one before left. */
  freshAgents(): Promise<void>;
}

export function agentApi(controller: () => ControllerProcess, ids: string[]): AgentApi {
  const agentState = async (id: string): Promise<string> =>
    (await controller().api<{ state: string }>('GET', `/api/agents/${id}`)).body.state;
  return {
    async agent(t, id, action, body) {
      const res = await controller().api(
        'POST',
        `/api/agents/${id}/${action}`,
        body ?? (action === 'login' ? {} : undefined),
      );
      t.equal(res.status, 200, `${id} ${action}`, { body: res.body });
    },
    agentState,
    async freshAgents() {
      for (const id of ids) {
        await until(
          `${id} off any call`,
          async () => !['reserved', 'on-call'].includes(await agentState(id)),
          20_000,
        ).catch(() => undefined);
        if ((await agentState(id)) === 'wrap-up') await controller().api('POST', `/api/agents/${id}/end-wrap-up`);
        if ((await agentState(id)) !== 'logged-out') await controller().api('POST', `/api/agents/${id}/logout`);
      }
    },
  };
}
