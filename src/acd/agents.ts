// What agents (and supervisors on their behalf) do with their state: log in and out, ready,
// not ready with a reason, end wrap-up early. Every change goes through the router's
// compare-and-set script, so a request that races a call offer cannot undo the offer.
import { RexianError } from '../errors/index.js';
import type { Redis } from '../store/redis.js';
import type { AgentState } from './agent-state.js';
import type { AgentProvisioning } from './provisioning.js';
import type { AgentDefinition, Roster } from './roster.js';
import type { Router } from './router.js';
import type { AcdService } from './service.js';

export type { AgentState };

export interface AgentView {
  id: string;
  name: string;
  skills: Record<string, number>;
  device: string;
  team?: string;
  state: AgentState;
  reason: string;
  reasonLabel?: string;
  since: string | null;
  callId: string | null;
  wrapUpUntil: string | null;
  notReadyAfterCall: string | null;
}

const ON_A_CALL: AgentState[] = ['reserved', 'on-call'];

export class AgentDesk {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly router: Router,
    private readonly acd: AcdService,
    private readonly roster: () => Roster,
    private readonly provisioning: AgentProvisioning,
    /** Agents of the roster file (the API may not change or remove them). */
    private readonly inFile: (agentId: string) => boolean,
    private readonly rosterChanged: () => Promise<void>,
  ) {}

  /** Adds or updates an agent through the API: its SIP endpoint is live at once. */
  async upsert(
    agentId: string,
    body: Omit<AgentDefinition, 'id' | 'device' | 'autoAnswer'> & Partial<AgentDefinition>,
  ): Promise<AgentView & { sipUsername: string; sipPassword: string }> {
    if (this.inFile(agentId)) {
      throw new RexianError('REXIAN_AGENT_IN_FILE', { agentId }, 'change');
    }
    const agent: AgentDefinition = {
      id: agentId,
      name: body.name,
      skills: body.skills,
      device: body.device ?? 'sip',
      autoAnswer: body.autoAnswer ?? false,
      ...(body.team ? { team: body.team } : {}),
    };
    const sip = await this.provisioning.save(agent);
    await this.rosterChanged();
    await this.router.registerAgent(agentId, agent.skills);
    return { ...(await this.view(agentId)), ...sip };
  }

  /** Removes an agent added through the API; refused while the agent is on a call. */
  async remove(agentId: string): Promise<void> {
    this.known(agentId);
    if (this.inFile(agentId)) {
      throw new RexianError('REXIAN_AGENT_IN_FILE', { agentId }, 'remove');
    }
    const { changed, previous } = await this.router.setAgentState(agentId, 'logged-out', 'removed', '', Date.now(), {
      expect: ['logged-out', 'ready', 'not-ready', 'wrap-up'],
    });
    if (!changed)
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, state: previous },
        `agent "${agentId}" cannot be removed while ${previous}`,
      );
    await this.provisioning.remove(agentId);
    await this.redis.multi().srem(`${this.prefix}:agents`, agentId).del(`${this.prefix}:agent:${agentId}`).exec();
    await this.rosterChanged();
  }

  /** Enters the roster into Redis (skills may have changed); agents removed from it log out. */
  async sync(): Promise<void> {
    const roster = this.roster();
    for (const agent of roster.agents.values()) await this.router.registerAgent(agent.id, agent.skills);
    for (const id of await this.redis.smembers(`${this.prefix}:agents`)) {
      if (roster.agents.has(id)) continue;
      await this.router.setAgentState(id, 'logged-out', 'removed-from-roster', '', Date.now(), {
        expect: ['ready', 'not-ready', 'wrap-up'],
      });
      await this.redis.srem(`${this.prefix}:agents`, id);
    }
  }

  /** The roster's not-ready reasons, in its order: code (what the API takes) and label (what people read). */
  notReadyReasons(): Array<{ code: string; label: string }> {
    return Object.entries(this.roster().notReadyReasons).map(([code, label]) => ({ code, label }));
  }

  /** The agent's team (supervisors see the teams they oversee). */
  teamOf(agentId: string): string | undefined {
    return this.roster().agents.get(agentId)?.team;
  }

  private known(agentId: string): void {
    if (!this.roster().agents.has(agentId)) {
      throw new RexianError('REXIAN_UNKNOWN_AGENT', { agentId });
    }
  }

  private async change(
    agentId: string,
    state: AgentState,
    reason: string,
    expect: AgentState[],
    action: string,
  ): Promise<AgentView> {
    this.known(agentId);
    let { changed, previous, missing } = await this.router.setAgentState(agentId, state, reason, '', Date.now(), {
      expect,
    });
    if (missing) {
      // Redis lost the agent's hash (data loss while we ran): it is in the roster, so enter
      // it again (logged out, as registration does) and apply the change to that.
      await this.router.registerAgent(agentId, this.roster().agents.get(agentId)!.skills);
      ({ changed, previous } = await this.router.setAgentState(agentId, state, reason, '', Date.now(), { expect }));
    }
    if (!changed) {
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, state: previous, allowedFrom: expect },
        `agent "${agentId}" cannot ${action} while ${previous}`,
      );
    }
    if (state === 'ready') {
      await this.acd.wake();
      void this.acd.route();
    }
    return this.view(agentId);
  }

  login(agentId: string, ready = false): Promise<AgentView> {
    return this.change(agentId, ready ? 'ready' : 'not-ready', ready ? '' : 'login', ['logged-out'], 'log in');
  }

  async logout(agentId: string): Promise<AgentView> {
    return this.change(agentId, 'logged-out', '', ['ready', 'not-ready', 'wrap-up'], 'log out');
  }

  ready(agentId: string): Promise<AgentView> {
    return this.change(agentId, 'ready', '', ['not-ready', 'ready'], 'become ready');
  }

  /** Not ready with a reason code; asked during a call, it takes effect when the call ends. */
  async notReady(agentId: string, reason: string): Promise<AgentView> {
    this.known(agentId);
    const reasons = this.roster().notReadyReasons;
    if (!(reason in reasons)) {
      throw new RexianError(
        'REXIAN_BAD_REQUEST',
        { field: 'reason', known: Object.keys(reasons) },
        `reason "${reason}" is not a not-ready reason (known: ${Object.keys(reasons).join(', ')})`,
      );
    }
    const current = (await this.router.agent(agentId)).state as AgentState;
    if (ON_A_CALL.includes(current) || current === 'wrap-up') {
      await this.redis.hset(`${this.prefix}:agent:${agentId}`, 'afterCall', reason);
      if (current !== 'wrap-up') return this.view(agentId);
    }
    return this.change(agentId, 'not-ready', reason, ['ready', 'not-ready', 'wrap-up'], 'go not ready');
  }

  async endWrapUp(agentId: string): Promise<AgentView> {
    this.known(agentId);
    if (!(await this.acd.endWrapUp(agentId))) {
      const { state } = await this.router.agent(agentId);
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, state },
        `agent "${agentId}" is not in wrap-up (${state})`,
      );
    }
    return this.view(agentId);
  }

  async view(agentId: string): Promise<AgentView> {
    this.known(agentId);
    const def = this.roster().agents.get(agentId)!;
    const h = await this.router.agent(agentId);
    const reasons = this.roster().notReadyReasons;
    const iso = (ms: string | undefined): string | null => (ms ? new Date(Number(ms)).toISOString() : null);
    return {
      id: agentId,
      name: def.name,
      skills: def.skills,
      device: def.device,
      ...(def.team ? { team: def.team } : {}),
      state: (h.state ?? 'logged-out') as AgentState,
      reason: h.reason ?? '',
      ...(h.reason && reasons[h.reason] ? { reasonLabel: reasons[h.reason] } : {}),
      since: iso(h.since),
      callId: h.call || null,
      wrapUpUntil: iso(h.wrapUntil || undefined),
      notReadyAfterCall: h.afterCall || null,
    };
  }

  async list(): Promise<AgentView[]> {
    return Promise.all([...this.roster().agents.keys()].map((id) => this.view(id)));
  }

  /** The agent's state changes, newest first, from the kept log. */
  async history(agentId: string, limit = 100): Promise<Array<Record<string, string>>> {
    this.known(agentId);
    const out: Array<Record<string, string>> = [];
    let end = '+';
    while (out.length < limit) {
      const batch = await this.redis.xrevrange(`${this.prefix}:agent-events`, end, '-', 'COUNT', 1000);
      if (batch.length === 0) break;
      for (const [id, fields] of batch) {
        const record: Record<string, string> = { id };
        for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
        if (record.agent === agentId) out.push({ ...record, at: new Date(Number(record.at)).toISOString() });
        if (out.length >= limit) break;
      }
      const last = batch[batch.length - 1]![0];
      const [ms, seq] = last.split('-').map(Number) as [number, number];
      end = seq > 0 ? `${ms}-${seq - 1}` : `${ms - 1}`;
      if (batch.length < 1000) break;
    }
    return out;
  }

  /** Agents by state among those holding any of the skills. */
  async countsFor(skills: string[], views?: AgentView[]): Promise<Record<string, number>> {
    const all = views ?? (await this.list());
    const counts: Record<string, number> = {
      'logged-out': 0,
      ready: 0,
      'not-ready': 0,
      reserved: 0,
      'on-call': 0,
      'wrap-up': 0,
    };
    for (const a of all) if (skills.some((s) => s in a.skills)) counts[a.state] = (counts[a.state] ?? 0) + 1;
    return counts;
  }
}
