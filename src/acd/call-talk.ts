// What every agent call action shares: finding the call an agent is on (and running the action
// in that call's order), moving the citizen between the talk bridge and music on hold, hold
// time that counts only while an agent has the call, and the agent's leg leaving the call.
import type { Call } from '../calls/call.js';
import { RexianError } from '../errors/index.js';
import { type AcdCallState, acdState, holdSoFar, saveAcd } from './call-state.js';
import type { AcdCore } from './core.js';

/** What an action answers (the API's reply), always with the call's id. */
export type ActionResult = Record<string, unknown>;

/** The call is not in a state that allows the action (409). */
export const busy = (message: string, details: Record<string, unknown>): RexianError =>
  new RexianError('REXIAN_CALL_STATE', details, message);

/**
 * Runs an action on the call an agent is on, in that call's order. The call must be on
 * this controller (its ARI app holds the channels).
 */
export async function onAgentsCall(
  acd: AcdCore,
  agentId: string,
  action: string,
  task: (call: Call, state: AcdCallState) => Promise<ActionResult>,
): Promise<ActionResult> {
  const agent = await acd.deps.router.agent(agentId);
  if (agent.state !== 'on-call' || !agent.call) {
    throw new RexianError(
      'REXIAN_AGENT_STATE',
      { agentId, state: agent.state },
      `agent "${agentId}" is not on a call (${agent.state ?? 'logged-out'}); cannot ${action}`,
    );
  }
  const callId = agent.call;
  if (!acd.calls.get(callId)) {
    throw new RexianError(
      'REXIAN_AGENT_STATE',
      { agentId, callId },
      `call ${callId} is handled by another controller; send the request there`,
    );
  }
  return acd.calls.within(callId, async (call) => {
    const state = acdState(call);
    if (state?.phase !== 'connected' || state.agentId !== agentId) {
      throw new RexianError(
        'REXIAN_AGENT_STATE',
        { agentId, callId },
        `call ${callId} is not connected to agent "${agentId}"; cannot ${action}`,
      );
    }
    return { callId, ...(await task(call, state)) };
  });
}

/** Refuses an action while a consultation is under way. */
export function noConsult(state: AcdCallState, call: Call, action: string): void {
  if (state.consult)
    throw busy(
      `call ${call.id} has a consultation with ${state.consult.label} under way: complete, conference or cancel it before you ${action}`,
      { callId: call.id, consult: state.consult.label },
    );
}

/** The citizen leaves the talk bridge for the queue's music on hold. */
export async function citizenToMusic(acd: Pick<AcdCore, 'queue'>, call: Call, state: AcdCallState): Promise<void> {
  await call.ari.bridges.removeIfPresent(state.bridgeId!, call.channelId);
  await call.ari.channels.startMusic(call.channelId, acd.queue(state.origin).musicClass);
}

/** The citizen is back in the talk bridge. */
export async function citizenToTalk(call: Call, state: AcdCallState): Promise<void> {
  await call.ari.channels.stopMusicIfPresent(call.channelId);
  await call.ari.bridges.add(state.bridgeId!, call.channelId);
}

/** The state patch of a hold that ends now: its time is added to the call's hold. */
export function offHold(state: AcdCallState): Partial<AcdCallState> {
  return { held: false, heldSince: undefined, holdMs: holdSoFar(state, Date.now()) };
}

/** The agent leaves a citizen who may be on music: their hold so far counts, what follows does not. */
export async function settleHold(call: Call): Promise<void> {
  const now = acdState(call);
  if (now?.held && now.heldSince !== undefined)
    await saveAcd(call, { heldSince: undefined, holdMs: holdSoFar(now, Date.now()) });
}

/** The agent's leg leaves the call; the agent goes to wrap-up. */
export async function releaseAgent(
  acd: Pick<AcdCore, 'deps' | 'calls' | 'wrapUp'>,
  call: Call,
  state: AcdCallState,
  why: string,
): Promise<void> {
  if (state.agentLeg) {
    await acd.calls.detachLeg(call, state.agentLeg);
    await call.ari.hangupChannel(state.agentLeg);
  }
  await settleHold(call);
  if (state.agentId) {
    await acd.wrapUp(call, state.agentId, state.origin, Date.now() - (state.answeredAt ?? Date.now()));
    acd.deps.notifier.agentCall(state.agentId, call.id, 'released', why);
  }
}
