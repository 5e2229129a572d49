// The ACD's slot on a call (call.flow.acd): its types, and the one way to read and change it.
// The slot is saved with the call before each side effect, so another controller (or this one
// after a crash) picks the call up where it was. The calls domain does not know these types:
// the slot is declared on CallSlots by declaration merging below, so calls/ never imports acd/.
import type { Call } from '../calls/call.js';
import type { IvrSummary } from './screen-pop.js';

export interface QueueRequest {
  queue: string;
  /** Topic tags from the flow (shown to the agent); routing uses the queue's skills. */
  skills: string[];
  priority: number;
  maxWait?: number;
  /** Fields for the "call queued" log line (the flow's path and version). */
  context?: Record<string, unknown>;
  /** What the IVR learned, for the agent's screen. */
  ivr?: IvrSummary;
}

export type QueueExit = 'timeout' | 'noAgents';

// transferring: the agent left (a blind transfer), the citizen hears music until the other
// side answers. transferred: the citizen talks to a number or a window, no agent on the call.
export type AcdPhase =
  | 'waiting'
  | 'offering'
  | 'connected'
  | 'callback-requested'
  | 'dialing-citizen'
  | 'taken-over'
  | 'transferring'
  | 'transferred'
  | 'done';

/** A party the agent consults or transfers to, ringing or talking on a leg of the call. */
export interface Consult {
  leg: string;
  /** attended: the agent talks to them first. blind: the agent has left. */
  mode: 'attended' | 'blind';
  kind: 'agent' | 'number' | 'window';
  /** Agent id, number or window id. */
  target: string;
  /** As the agent sees it: 赵敏 (2001), 市政务服务中心 不动产登记窗口, 02367720001. */
  label: string;
  answered: boolean;
  /** All three in the talk bridge. */
  conference: boolean;
  startedAt: number;
  /** The citizen was on hold before: stays on hold when the consultation ends. */
  wasHeld: boolean;
  fromAgent: string;
}

/** What the ACD keeps in the call's saved state (call.flow.acd). */
export interface AcdCallState {
  queue: string;
  /** The queue the caller first entered: figures count against it even after an overflow. */
  origin: string;
  phase: AcdPhase;
  priority: number;
  enqueuedAt: number;
  deadline?: number;
  legCount: number;
  agentId?: string;
  agentLeg?: string;
  offeredAt?: number;
  answeredAt?: number;
  bridgeId?: string;
  nextAnnounceAt?: number;
  callbackOffered?: boolean;
  playbackId?: string;
  tags?: string[];
  /** Queue callbacks: the original call id, and the citizen's leg once we dial it. */
  originCallId?: string;
  citizenLeg?: string;
  callbackNumber?: string;
  /** On hold: the citizen is out of the talk bridge, hearing music. */
  held?: boolean;
  heldSince?: number;
  holdMs?: number;
  /** A supervisor took the call over: the agent's leg is being dropped, the call goes on. */
  takenOver?: boolean;
  /** Emergency hand-off: the 110/119/120/122 leg, its number, whether it has joined. */
  emergencyLeg?: string;
  emergencyNumber?: string;
  emergencyJoined?: boolean;
  muted?: boolean;
  consult?: Consult;
  transfers?: number;
  /** The quality-inspection recording of the talk bridge. */
  recording?: string;
  recordingPaused?: boolean;
  ivr?: IvrSummary;
  // For the call's record: the first queue entry and answer (a transfer queues again),
  // every agent who talked, talk time so far, how it ended.
  firstEnqueuedAt?: number;
  firstAnsweredAt?: number;
  agents?: string[];
  talkMs?: number;
  callerMasked?: boolean;
  abandoned?: boolean;
  shortAbandon?: boolean;
  windowId?: string;
  hangupSide?: 'citizen' | 'agent' | 'other';
  /** The last queue the flow sent the caller to turned them away: full, or nobody to answer. */
  refused?: 'queue-full' | 'no-agents';
  /** A dialer task placed agent-first: the dialer is told whether the citizen was reached. */
  dialerTask?: string;
}

declare module '../calls/call.js' {
  interface CallSlots {
    /** The ACD's state of the call: queued, offered, talking, transferred … (src/acd/call-state.ts). */
    acd?: AcdCallState;
  }
}

/** The ACD's state of a call, or undefined when the call never reached a queue. */
export function acdState(call: Call): AcdCallState | undefined {
  return call.flow.acd;
}

/**
 * Changes the ACD's state of a call and saves the call (before the side effect that follows,
 * so a crash finds the decision). Only for a call that has a slot already (enqueue makes it).
 */
export async function saveAcd(call: Call, patch: Partial<AcdCallState>): Promise<AcdCallState> {
  const next = { ...acdState(call)!, ...patch };
  await call.updateFlow({ acd: next });
  return next;
}

/**
 * A call's hold time up to `until` (ms), a hold still running counted to then. Hold counts
 * only while an agent has the call (see src/records/call-record.ts for the definitions): when
 * the agent leaves a citizen on music, the hold so far is settled and `heldSince` cleared.
 */
export function holdSoFar(state: Pick<AcdCallState, 'held' | 'heldSince' | 'holdMs'>, until: number): number {
  const running = state.held && state.heldSince !== undefined ? Math.max(0, until - state.heldSince) : 0;
  return (state.holdMs ?? 0) + running;
}
