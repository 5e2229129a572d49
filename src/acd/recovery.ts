// After Redis lost its data (a failover to a lagging replica, a flush): the ACD's calls are
// rebuilt from what Asterisk still carries. Callers found in a queue's holding bridge go back
// in that queue in order of arrival, and are offered when an agent is free; a citizen talking
// to an agent stays with that agent, who is set on-call so the router offers them nothing
// else. What cannot be recovered is logged plainly, one line per call, and one summary line.
//
// Agents not found talking are set logged-out, reason `state-lost`, with an `agent.state`
// event. Why logged-out and not not-ready: we do not know who was at their desk. Logging
// every agent of the roster in (not-ready) would make the queues think hundreds of agents are
// there, so callers would be queued for people who went home instead of being told; a
// logged-out agent's page and phone show it, and the agent logs in again with one click.
import type { Logger } from 'pino';

import type { AriChannel } from '../asterisk/ari.js';
import type { CallRecordState } from '../calls/call.js';
import type { LostState } from '../calls/service.js';
import type { AcdCallState } from './call-state.js';
import type { AcdWiring } from './core.js';
import { planRebuild, type RebuiltCall } from './rebuild.js';

/** What the rebuild uses of the ACD. */
type RecoveryNeeds = Pick<AcdWiring, 'deps' | 'calls' | 'controllerId' | 'queue' | 'route' | 'armTimers'>;

const ANY_STATE = ['logged-out', 'ready', 'not-ready', 'reserved', 'on-call', 'wrap-up'];

/** Carries out the rebuild plan; returns the channels it took (the rest start as new calls). */
export async function recoverFromAsterisk(
  acd: RecoveryNeeds,
  lost: LostState,
  log: Logger = acd.deps.logger.child({ domain: 'acd' }),
): Promise<Set<string>> {
  const taken = new Set<string>();
  const queues = [...acd.deps.queues().queues.keys()];
  // Redis lost its data while this controller ran (the store's sentinel is gone, calls/reconcile.ts):
  // no roster sync entered the agents again as at a start, so enter the missing ones (logged out)
  // before the talking agents are set on-call and the others told their state was lost.
  if (lost.storeEmpty) {
    for (const [agentId, agent] of acd.deps.roster().agents) {
      if (Object.keys(await acd.deps.router.agent(agentId)).length === 0)
        await acd.deps.router.registerAgent(agentId, agent.skills);
    }
  }
  if (lost.channels.length > 0) {
    const plan = planRebuild({
      app: acd.deps.ari.app,
      lost: lost.channels,
      all: lost.all,
      bridges: lost.bridges,
      queues,
    });
    for (const item of plan.calls) {
      try {
        await rebuildCall(acd, item);
        for (const id of channelsOf(item)) taken.add(id);
      } catch (err) {
        log.error({ err, callId: item.callId }, 'could not rebuild this call from Asterisk');
      }
    }
    for (const { callId, channelId, why } of plan.leftAlone) {
      log.warn({ callId, channelId, why }, 'after Redis lost its data: a call could not be recovered');
      taken.add(channelId);
    }
    for (const { channelId, why } of plan.hangUp) {
      log.warn({ channelId, why }, 'after Redis lost its data: hanging up a stale agent leg');
      await acd.deps.ari.hangupChannel(channelId);
    }
    const waiting = plan.calls.filter((c) => c.state === 'waiting').length;
    log.warn(
      {
        rebuiltWaiting: waiting,
        rebuiltTalking: plan.calls.length - waiting,
        rebuiltFailed: plan.calls.length - channelsTaken(plan.calls, taken),
        notRecovered: plan.leftAlone.length,
        hungUp: plan.hangUp.length,
        busyAgents: [...plan.busyAgents.keys()],
      },
      'rebuilt calls from Asterisk after Redis lost their state',
    );
    if (lost.storeEmpty) await resetAgents(acd, new Set(plan.busyAgents.keys()), log);
    void acd.route();
  } else if (lost.storeEmpty) {
    await resetAgents(acd, new Set(), log);
  }
  return taken;
}

function channelsOf(item: RebuiltCall): string[] {
  if (item.state === 'callback-talking') return [item.agentLeg.id, item.citizenLeg.id];
  if (item.state === 'talking') return [item.channel.id, item.agentLeg.id];
  return [item.channel.id];
}

function channelsTaken(calls: RebuiltCall[], taken: Set<string>): number {
  return calls.filter((c) => channelsOf(c).every((id) => taken.has(id))).length;
}

/** A queue an agent serves (the calls' queue is lost with Redis): the first whose skills they have. */
function queueForAgent(acd: RecoveryNeeds, agentId: string): string {
  const skills = Object.keys(acd.deps.roster().agents.get(agentId)?.skills ?? {});
  const queues = [...acd.deps.queues().queues.values()];
  return (queues.find((q) => q.skills.some((s) => skills.includes(s))) ?? queues[0])!.id;
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function rebuildCall(acd: RecoveryNeeds, item: RebuiltCall): Promise<void> {
  const now = Date.now();
  const log = acd.deps.logger.child({ domain: 'acd', callId: item.callId });
  if (item.state === 'waiting') {
    const q = acd.queue(item.queue);
    // The flow's priority is lost with the call's state: the queue's own is used.
    const state: AcdCallState = {
      queue: q.id,
      origin: q.id,
      phase: 'waiting',
      priority: q.priority,
      enqueuedAt: item.createdAt,
      deadline: now + q.maxWaitSeconds * 1000,
      legCount: item.legCount,
      firstEnqueuedAt: item.createdAt,
      tags: [],
    };
    const call = await acd.calls.open(citizenCall(item, { acd: state, rebuilt: 'waiting' }, now));
    await acd.deps.waiting.join(call.id, {
      queue: q.id,
      origin: q.id,
      enqueuedAt: item.createdAt,
      priority: q.priority,
      owner: acd.controllerId,
      did: item.did,
      caller: item.caller,
    });
    acd.calls.run(call.id, async (c) => acd.armTimers(c, state, q));
    log.warn(
      { channelId: item.channel.id, queue: q.id, rebuilt: 'waiting', waitingSince: iso(item.createdAt) },
      'after Redis lost its data: caller put back in their queue by arrival',
    );
    return;
  }
  const answeredAt = item.state === 'callback-talking' ? item.createdAt : Date.parse(item.agentLeg.creationtime) || now;
  const queue = queueForAgent(acd, item.agentId);
  if (item.state === 'talking') {
    const state: AcdCallState = {
      queue,
      origin: queue,
      phase: 'connected',
      priority: 0,
      enqueuedAt: item.createdAt,
      legCount: item.legCount,
      agentId: item.agentId,
      agentLeg: item.agentLeg.id,
      bridgeId: item.bridgeId,
      answeredAt,
      offeredAt: answeredAt,
      firstEnqueuedAt: item.createdAt,
      firstAnsweredAt: answeredAt,
      agents: [item.agentId],
      ...(item.held ? { held: true, heldSince: now } : {}),
    };
    await acd.calls.open({
      ...citizenCall(item, { acd: state, rebuilt: 'talking' }, now),
      legs: [item.agentLeg.id],
      legInfo: {
        [item.agentLeg.id]: {
          role: 'agent',
          party: item.agentId,
          dialledAt: iso(answeredAt),
          answeredAt: iso(answeredAt),
        },
      },
    });
  } else {
    const state: AcdCallState = {
      queue,
      origin: queue,
      phase: 'connected',
      priority: 9,
      enqueuedAt: item.createdAt,
      legCount: 1,
      agentId: item.agentId,
      agentLeg: item.agentLeg.id,
      citizenLeg: item.citizenLeg.id,
      bridgeId: item.bridgeId,
      answeredAt,
      firstEnqueuedAt: item.createdAt,
      firstAnsweredAt: answeredAt,
      agents: [item.agentId],
      callbackNumber: item.caller,
      originCallId: item.callId.replace(/-cb[0-9a-z]+$/, ''),
    };
    await acd.calls.open({
      callId: item.callId,
      channelId: item.agentLeg.id,
      did: item.citizenLeg.caller.number || '12345',
      caller: item.caller,
      startedAt: iso(item.createdAt),
      asteriskStartup: '',
      kind: 'callback',
      flow: { acd: state, rebuilt: 'talking' },
      legs: [item.citizenLeg.id],
      events: [{ at: iso(now), type: 'rebuilt', state: 'talking', agentId: item.agentId }],
    });
  }
  const set = await acd.deps.router.setAgentState(item.agentId, 'on-call', '', item.callId, now, { expect: ANY_STATE });
  if (set.missing)
    log.warn(
      { agentId: item.agentId },
      'after Redis lost its data: the agent on this call is not in the roster; their state cannot be rebuilt',
    );
  else acd.deps.notifier.agentState(item.agentId, 'on-call', 'state-rebuilt', item.callId);
  log.warn(
    {
      channelId: item.state === 'talking' ? item.channel.id : item.agentLeg.id,
      agentId: item.agentId,
      queue,
      rebuilt: 'talking',
      held: item.state === 'talking' && item.held,
    },
    "after Redis lost its data: call kept talking with its agent (queue inferred from the agent's skills)",
  );
}

function citizenCall(
  item: {
    callId: string;
    channel: AriChannel;
    did: string;
    caller: string;
    kind: 'inbound' | 'outbound';
    dialerTask?: string;
    createdAt: number;
  },
  flow: Record<string, unknown>,
  now: number,
): CallRecordState {
  return {
    callId: item.callId,
    channelId: item.channel.id,
    did: item.did,
    caller: item.caller,
    startedAt: iso(item.createdAt),
    asteriskStartup: '',
    flow: { ...flow, ...(item.dialerTask ? { dialerTask: item.dialerTask } : {}) },
    ...(item.kind === 'outbound' ? { kind: 'outbound' as const } : {}),
    events: [{ at: iso(now), type: 'rebuilt', state: String(flow.rebuilt) }],
  };
}

/**
 * Agents whose state Redis lost (their hash was entered again by the roster sync, with no
 * change since) are set logged-out, reason state-lost, and told so; agents found talking are
 * left on their call.
 */
async function resetAgents(acd: RecoveryNeeds, busy: Set<string>, log: Logger): Promise<void> {
  const reset: string[] = [];
  for (const agentId of acd.deps.roster().agents.keys()) {
    if (busy.has(agentId)) continue;
    const hash = await acd.deps.router.agent(agentId);
    if (hash.since) continue; // changed since it was entered again: someone logged in already
    const { changed } = await acd.deps.router.setAgentState(agentId, 'logged-out', 'state-lost', '', Date.now(), {
      expect: ['logged-out'],
    });
    if (!changed) continue;
    reset.push(agentId);
    acd.deps.notifier.agentState(agentId, 'logged-out', 'state-lost');
  }
  if (reset.length > 0)
    log.warn(
      { agents: reset.length },
      'no saved state for this switch (Redis lost its data, or a first start): agents set logged-out (state-lost) and told so',
    );
}
