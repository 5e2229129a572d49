// The durable record of a call, built from its live state when it ends: the IVR's path, the
// queue and wait, whether it was answered or abandoned, the agents, talk and hold, transfers,
// a window's three-way, an emergency hand-off, the survey and the recordings.
import type { AcdCallState } from '../acd/service.js';
import { lineName, maskNumber } from '../acd/screen-pop.js';
import type { CallEvent, CallRecordState, LegRole } from '../calls/call.js';
import type { IvrState } from '../ivr/interpreter.js';

export interface CallRecord {
  callId: string;
  direction: 'inbound' | 'outbound';
  did: string;
  line: string;
  caller: string;
  callerMasked: boolean;
  startedAt: string;
  endedAt: string;
  endReason: string;
  flowId: string | null;
  flowVersion: string | null;
  ivrPath: string[];
  digits: Record<string, string>;
  queue: string | null;
  originQueue: string | null;
  enteredQueueAt: string | null;
  waitMs: number | null;
  answered: boolean;
  answeredAt: string | null;
  abandoned: boolean;
  shortAbandon: boolean;
  agentId: string | null;
  agents: string[];
  talkMs: number | null;
  holdMs: number | null;
  transfers: number;
  windowId: string | null;
  emergency: string | null;
  survey: string | null;
  recordings: string[];
  maskingBinding: string | null;
  hangupSide: string | null;
  /** The citizen's channel first, then every party the call rang. */
  legs: CallLeg[];
  /** What happened, in order, ending with the end. */
  events: CallEvent[];
}

export interface CallLeg {
  channelId: string;
  role: LegRole;
  party: string;
  dialledAt: string;
  answeredAt: string | null;
  endedAt: string;
  cause: string | null;
}

interface FlowSummary { flowId: string; version: string; path: string[] }

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function buildCallRecord(state: CallRecordState, endedAt: Date, endReason: string): CallRecord {
  const acd = state.flow.acd as AcdCallState | undefined;
  const ivr = state.flow.ivr as IvrState | undefined;
  // The flow that brought the caller in; an after-call flow (the survey) comes later.
  const first = ((state.flow.previousFlows as FlowSummary[] | undefined) ?? [])[0] ?? ivr;
  const answeredAt = acd?.firstAnsweredAt ?? acd?.answeredAt;
  const queued = acd?.enqueuedAt !== undefined;
  const answered = answeredAt !== undefined;
  // A call through a virtual number: the record names the binding, not the hidden number.
  const maskingBinding = (state.flow.maskingBinding as string | undefined) ?? null;
  const masked = Boolean(acd?.callerMasked) || maskingBinding !== null;
  const caller = maskingBinding ? maskNumber(state.caller) : state.caller;
  const ended = endedAt.toISOString();
  return {
    callId: state.callId,
    direction: state.kind === 'callback' || state.kind === 'outbound' ? 'outbound' : 'inbound',
    did: state.did,
    line: lineName(state.did),
    caller,
    callerMasked: masked,
    startedAt: state.startedAt,
    endedAt: ended,
    endReason,
    flowId: first?.flowId ?? null,
    flowVersion: first?.version ?? null,
    ivrPath: first?.path ?? [],
    digits: acd?.ivr?.vars ?? ivr?.vars ?? {},
    queue: acd?.queue ?? null,
    originQueue: acd?.origin ?? null,
    enteredQueueAt: iso(acd?.firstEnqueuedAt ?? acd?.enqueuedAt),
    waitMs: queued ? (answeredAt ?? endedAt.getTime()) - (acd!.firstEnqueuedAt ?? acd!.enqueuedAt) : null,
    answered,
    answeredAt: iso(answeredAt),
    abandoned: Boolean(acd?.abandoned),
    shortAbandon: Boolean(acd?.shortAbandon),
    agentId: acd?.agents?.[0] ?? acd?.agentId ?? null,
    agents: acd?.agents ?? (acd?.agentId ? [acd.agentId] : []),
    talkMs: answered ? acd?.talkMs ?? endedAt.getTime() - answeredAt! : null,
    holdMs: acd?.holdMs ?? (answered ? 0 : null),
    transfers: acd?.transfers ?? 0,
    windowId: acd?.windowId ?? null,
    emergency: acd?.emergencyNumber ?? null,
    survey: ivr?.vars.survey ?? null,
    recordings: [acd?.recording ?? (state.flow.recording as string | undefined), acd?.emergencyNumber ? `${state.callId}-emergency` : undefined].filter((r): r is string => Boolean(r)),
    maskingBinding,
    hangupSide: acd?.hangupSide ?? (endReason === 'hangup' ? 'citizen' : 'system'),
    legs: [
      // The first channel: the citizen's (answered by our app as it arrived, or answering the
      // dialer), or for a queue callback the agent's, rung before the citizen.
      state.kind === 'callback'
        ? { channelId: state.channelId, role: 'agent', party: acd?.agentId ?? '', dialledAt: state.startedAt, answeredAt: iso(acd?.answeredAt), endedAt: ended, cause: endReason }
        : { channelId: state.channelId, role: 'citizen', party: caller, dialledAt: state.startedAt, answeredAt: state.startedAt, endedAt: ended, cause: endReason },
      ...Object.entries(state.legInfo ?? {}).map(([channelId, leg]): CallLeg => ({
        channelId, role: leg.role, party: leg.party, dialledAt: leg.dialledAt, answeredAt: leg.answeredAt ?? null,
        // A leg still up when the citizen left ended with the call.
        endedAt: leg.endedAt ?? ended, cause: leg.cause ?? (leg.endedAt ? null : 'call ended'),
      })),
    ],
    events: [...(state.events ?? []), { at: ended, type: 'ended', reason: endReason }],
  };
}

/** An outbound call nobody answered (busy, no answer, wrong number …): counted in the reports. */
export function outboundAttemptRecord(a: { callId: string; did: string; number: string; startedAt: number; endedAt: number; disposition: string }): CallRecord {
  return {
    callId: a.callId, direction: 'outbound', did: a.did, line: lineName(a.did), caller: a.number, callerMasked: false,
    startedAt: new Date(a.startedAt).toISOString(), endedAt: new Date(a.endedAt).toISOString(), endReason: a.disposition,
    flowId: null, flowVersion: null, ivrPath: [], digits: {}, queue: null, originQueue: null, enteredQueueAt: null, waitMs: null,
    answered: false, answeredAt: null, abandoned: false, shortAbandon: false, agentId: null, agents: [], talkMs: null, holdMs: null,
    transfers: 0, windowId: null, emergency: null, survey: null, recordings: [], maskingBinding: null, hangupSide: null,
    legs: [{ channelId: a.callId, role: 'citizen', party: a.number, dialledAt: new Date(a.startedAt).toISOString(), answeredAt: null, endedAt: new Date(a.endedAt).toISOString(), cause: a.disposition }],
    events: [{ at: new Date(a.startedAt).toISOString(), type: 'dialled', number: a.number }, { at: new Date(a.endedAt).toISOString(), type: 'ended', reason: a.disposition }],
  };
}
