// After Redis lost its data: what Asterisk still knows about the ACD's calls, read from its
// channels and bridges by our id conventions, as a plan the ACD then carries out. Pure (ARI
// lists in, a plan out) so that every case is unit tested without a switch.
//
// The conventions (asterisk/ids.ts): a queue's callers sit in the holding bridge
// `<app>-hold-<queue>`; a call talks in `<callId>-talk`; an agent's leg of a call is
// `<callId>-a<n>` (a queue callback's is `<callId>-a`, its citizen's `<callId>-c`) and rings
// the endpoint `agent-<agentId>`, so its channel is named `PJSIP/agent-<agentId>-<seq>`.
import type { AriBridge, AriChannel } from '../asterisk/ari.js';
import {
  agentOfChannelName,
  callbackAgentLeg,
  callbackCitizenLeg,
  parseAgentLeg,
  parseHoldingBridge,
  parseTalkBridge,
  talkBridge,
} from '../asterisk/ids.js';

export interface RebuildInput {
  /** Our Stasis app (the holding bridges' ids start with it). */
  app: string;
  /** Channels in our app that Redis holds no state for. */
  lost: AriChannel[];
  /** Every channel Asterisk has (ringing agent legs are not in our app yet). */
  all: AriChannel[];
  bridges: AriBridge[];
  /** The queues configured now. */
  queues: string[];
}

interface CallFacts {
  callId: string;
  channel: AriChannel;
  did: string;
  caller: string;
  kind: 'inbound' | 'outbound';
  dialerTask?: string;
  /** When the citizen's channel was made (ms): their place in line. */
  createdAt: number;
  /** The highest agent-leg number in use: new legs must not reuse an id (a reused id answers 409). */
  legCount: number;
}

export type RebuiltCall =
  | (CallFacts & { state: 'waiting'; queue: string })
  | (CallFacts & { state: 'talking'; agentId: string; agentLeg: AriChannel; bridgeId: string; held: boolean })
  | {
      state: 'callback-talking';
      callId: string;
      agentId: string;
      agentLeg: AriChannel;
      citizenLeg: AriChannel;
      bridgeId: string;
      caller: string;
      createdAt: number;
    };

export interface NotRecovered {
  callId: string;
  channelId: string;
  why: string;
}

export interface RebuildPlan {
  /** Calls to rebuild; the waiting ones in order of arrival. */
  calls: RebuiltCall[];
  /** Agents found talking: on a call, so the router offers them nothing else. */
  busyAgents: Map<string, string>;
  /** Channels in our app left as they are (talking to someone we cannot name): not restarted. */
  leftAlone: NotRecovered[];
  /** Channels to hang up: agent legs still ringing for a call that is waiting again, or orphaned. */
  hangUp: Array<{ channelId: string; why: string }>;
}

/** The agent a channel rings or carries, from its name (PJSIP/agent-<id>-<seq>). */
export function agentOfChannel(channel: Pick<AriChannel, 'name'>): string | undefined {
  return agentOfChannelName(channel.name);
}

function appArgs(channel: AriChannel): string[] {
  return (channel.dialplan.app_data ?? '').split(',').slice(1);
}

function created(channel: AriChannel): number {
  const ms = Date.parse(channel.creationtime);
  return Number.isFinite(ms) ? ms : Date.now();
}

export function planRebuild(input: RebuildInput): RebuildPlan {
  const plan: RebuildPlan = { calls: [], busyAgents: new Map(), leftAlone: [], hangUp: [] };
  const byId = new Map(input.all.map((c) => [c.id, c]));
  for (const c of input.lost) byId.set(c.id, c);
  const bridgeOf = new Map<string, AriBridge>();
  for (const b of input.bridges) for (const id of b.channels) bridgeOf.set(id, b);
  const bridgeById = new Map(input.bridges.map((b) => [b.id, b]));
  const taken = new Set<string>();
  const waiting: Array<CallFacts & { state: 'waiting'; queue: string }> = [];

  const legsOf = (callId: string): AriChannel[] => {
    return [...byId.values()].filter((c) => parseAgentLeg(c.id, callId) !== undefined);
  };
  const legNumber = (c: AriChannel): number => parseAgentLeg(c.id)?.n ?? 0;

  for (const channel of input.lost) {
    const args = appArgs(channel);
    if (args[0] !== 'inbound' && args[0] !== 'outbound') continue;
    const legs = legsOf(channel.id);
    const facts: CallFacts =
      args[0] === 'inbound'
        ? {
            callId: channel.id,
            channel,
            did: args[1] ?? channel.dialplan.exten,
            caller: channel.caller.number,
            kind: 'inbound',
            createdAt: created(channel),
            legCount: 0,
          }
        : {
            callId: channel.id,
            channel,
            did: channel.caller.number,
            caller: args[2] ?? '',
            kind: 'outbound',
            dialerTask: args[1],
            createdAt: created(channel),
            legCount: 0,
          };
    facts.legCount = Math.max(0, ...legs.map(legNumber));
    // The talk bridge first: a citizen on hold has left it but the call is still there.
    const talk = bridgeById.get(talkBridge(channel.id));
    if (talk) {
      const agentLeg = legs.find((l) => talk.channels.includes(l.id) && agentOfChannel(l) !== undefined);
      if (agentLeg) {
        const agentId = agentOfChannel(agentLeg)!;
        plan.calls.push({
          ...facts,
          state: 'talking',
          agentId,
          agentLeg,
          bridgeId: talk.id,
          held: !talk.channels.includes(channel.id),
        });
        plan.busyAgents.set(agentId, channel.id);
        taken.add(channel.id).add(agentLeg.id);
      } else {
        plan.leftAlone.push({
          callId: channel.id,
          channelId: channel.id,
          why: 'in its talk bridge with no agent (a transfer or consultation): left talking, no record will be kept',
        });
        taken.add(channel.id);
      }
      continue;
    }
    const bridge = bridgeOf.get(channel.id);
    const queue = bridge && parseHoldingBridge(input.app, bridge.id);
    if (queue !== undefined) {
      if (!input.queues.includes(queue)) continue; // a queue no longer configured: its flow starts again
      waiting.push({ ...facts, state: 'waiting', queue });
      taken.add(channel.id);
      // An agent leg still ringing for it: the offer is void (the agent's reservation is gone).
      for (const leg of legs)
        plan.hangUp.push({ channelId: leg.id, why: 'rang an agent for a call that is waiting again' });
      continue;
    }
    if (bridge) {
      plan.leftAlone.push({
        callId: channel.id,
        channelId: channel.id,
        why: `in bridge ${bridge.id}, which is not the ACD's: left as it is, no record will be kept`,
      });
      taken.add(channel.id);
    }
    // In no bridge: it was in the IVR; not in the plan (its flow starts again).
  }

  // Queue callbacks: the agent's leg <id>-a and the citizen's <id>-c talk in <id>-talk.
  for (const bridge of input.bridges) {
    const callId = parseTalkBridge(bridge.id);
    if (callId === undefined) continue;
    const agentLeg = byId.get(callbackAgentLeg(callId));
    const citizenLeg = byId.get(callbackCitizenLeg(callId));
    if (!agentLeg || !citizenLeg || taken.has(agentLeg.id) || !input.lost.some((c) => c.id === agentLeg.id)) continue;
    const agentId = agentOfChannel(agentLeg);
    if (!agentId || !bridge.channels.includes(agentLeg.id) || !bridge.channels.includes(citizenLeg.id)) continue;
    plan.calls.push({
      state: 'callback-talking',
      callId,
      agentId,
      agentLeg,
      citizenLeg,
      bridgeId: bridge.id,
      caller: citizenLeg.connected.number || citizenLeg.caller.number,
      createdAt: created(agentLeg),
    });
    plan.busyAgents.set(agentId, callId);
    taken.add(agentLeg.id).add(citizenLeg.id);
  }

  // Agent legs in our app whose call has no citizen channel any more: nobody to talk to.
  for (const channel of input.lost) {
    const args = appArgs(channel);
    if (args[0] !== 'agent-leg' || taken.has(channel.id)) continue;
    const callId = args[1] ?? '';
    const citizenThere = byId.has(callId) || byId.has(callbackCitizenLeg(callId));
    if (!citizenThere) plan.hangUp.push({ channelId: channel.id, why: 'an agent leg whose citizen is gone' });
  }

  waiting.sort((a, b) => a.createdAt - b.createdAt);
  plan.calls.push(...waiting);
  return plan;
}
