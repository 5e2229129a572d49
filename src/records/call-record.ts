// The durable record of a call, built from its live state when it ends: the IVR's path, the
// queue and wait, whether it was answered or abandoned, the agents, talk and hold, transfers,
// a window's three-way, an emergency hand-off, the survey and the recordings.
//
// Times, as every report reads them (contact-centre practice):
// - talk: the time the citizen was with an agent, hold excluded (summed over the agents of
//   a transferred call);
// - hold: the time the citizen was on hold (music) while an agent had the call: the agent's
//   hold, and the consultation of a colleague, number or window; a hold still running when
//   the call ends counts up to the end (or to the agent's leaving). The wait with music after
//   a blind transfer, once the agent has gone, is nobody's hold;
// - handle = talk + hold (+ wrap-up, the after-call work, which runs after the call ends and
//   so is not in the record: the live figures and the staffing report add the queue's).
// A masked call (src/calls/privacy.ts) keeps only the masked form of the number.
import { type AcdCallState, holdSoFar } from '../acd/call-state.js';
import { lineName } from '../acd/screen-pop.js';
import { emergencyRecording } from '../asterisk/ids.js';
import type { CallEvent, CallRecordState, LegRole } from '../calls/call.js';
import { isMasked, maskNumber, type PrivacyPolicy } from '../calls/privacy.js';
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

interface FlowSummary {
  flowId: string;
  version: string;
  path: string[];
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** The end of a hold still running when the call ended: the end, or when the agent left. */
function holdEnd(state: CallRecordState, acd: AcdCallState, endedAt: Date): number {
  if (acd.phase === 'connected' || !acd.agentLeg) return endedAt.getTime();
  const left = state.legInfo?.[acd.agentLeg]?.endedAt;
  return left === undefined ? endedAt.getTime() : Math.min(endedAt.getTime(), Date.parse(left));
}

/** The flow ended the call itself (a hangup node): the hang-up was ours, not the citizen's. */
function flowHungUp(ivr: IvrState | undefined): boolean {
  return ivr?.waiting === 'done' && ivr.outcome?.type === 'hangup';
}

export function buildCallRecord(
  state: CallRecordState,
  endedAt: Date,
  endReason: string,
  privacy?: PrivacyPolicy,
): CallRecord {
  const acd = state.flow.acd;
  const ivr = state.flow.ivr as IvrState | undefined;
  // The flow that brought the caller in; an after-call flow (the survey) comes later.
  const first = ((state.flow.previousFlows as FlowSummary[] | undefined) ?? [])[0] ?? ivr;
  const answeredAt = acd?.firstAnsweredAt ?? acd?.answeredAt;
  const queued = acd?.enqueuedAt !== undefined;
  const answered = answeredAt !== undefined;
  // A call through a virtual number names the binding; no masked call keeps the real number.
  const maskingBinding = (state.flow.maskingBinding as string | undefined) ?? null;
  const masked = isMasked(state, privacy);
  const caller = masked ? maskNumber(state.caller) : state.caller;
  const ended = endedAt.toISOString();
  // Turned away by the last queue the flow chose (full, nobody to answer): that is why it ended.
  const reason = acd?.refused !== undefined && endReason === 'hangup' ? acd.refused : endReason;
  const holdMs = acd && answered ? holdSoFar(acd, holdEnd(state, acd, endedAt)) : (acd?.holdMs ?? null);
  // acd.talkMs is the agents' connected time, their holds included.
  const connectedMs = answered ? (acd?.talkMs ?? endedAt.getTime() - answeredAt!) : null;
  const record: CallRecord = {
    callId: state.callId,
    direction: state.kind === 'callback' || state.kind === 'outbound' ? 'outbound' : 'inbound',
    did: state.did,
    line: lineName(state.did),
    caller,
    callerMasked: masked,
    startedAt: state.startedAt,
    endedAt: ended,
    endReason: reason,
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
    talkMs: connectedMs === null ? null : Math.max(0, connectedMs - (holdMs ?? 0)),
    holdMs,
    transfers: acd?.transfers ?? 0,
    windowId: acd?.windowId ?? null,
    emergency: acd?.emergencyNumber ?? null,
    survey: ivr?.vars.survey ?? null,
    recordings: [
      acd?.recording ?? (state.flow.recording as string | undefined),
      acd?.emergencyNumber ? emergencyRecording(state.callId) : undefined,
    ].filter((r): r is string => Boolean(r)),
    maskingBinding,
    // Ended while no controller ran: who hung up as Asterisk saw it (records/fallback.ts).
    hangupSide:
      acd?.hangupSide ??
      (state.flow.asteriskEnd as { side?: string } | undefined)?.side ??
      (endReason === 'hangup' && !flowHungUp(ivr) ? 'citizen' : 'system'),
    legs: [
      // The first channel: the citizen's (answered by our app as it arrived, or answering the
      // dialer), or for a queue callback the agent's, rung before the citizen.
      state.kind === 'callback'
        ? {
            channelId: state.channelId,
            role: 'agent',
            party: acd?.agentId ?? '',
            dialledAt: state.startedAt,
            answeredAt: iso(acd?.answeredAt),
            endedAt: ended,
            cause: endReason,
          }
        : {
            channelId: state.channelId,
            role: 'citizen',
            party: caller,
            dialledAt: state.startedAt,
            answeredAt: state.startedAt,
            endedAt: ended,
            cause: endReason,
          },
      ...Object.entries(state.legInfo ?? {}).map(([channelId, leg]): CallLeg => ({
        channelId,
        role: leg.role,
        party: leg.party,
        dialledAt: leg.dialledAt,
        answeredAt: leg.answeredAt ?? null,
        // A leg still up when the citizen left ended with the call.
        endedAt: leg.endedAt ?? ended,
        cause: leg.cause ?? (leg.endedAt ? null : 'call ended'),
      })),
    ],
    events: [...(state.events ?? []), { at: ended, type: 'ended', reason }],
  };
  return masked ? withoutNumber(record, state.caller) : record;
}

/** Whatever detail of a masked call's legs and events still holds its number gets the masked form. */
function withoutNumber(record: CallRecord, number: string): CallRecord {
  const bare = number.replace(/^\+86/, '');
  if (bare.length < 3) return record;
  const hide = <T extends object>(o: T): T =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [
        k,
        typeof v === 'string' && v.replace(/^\+86/, '') === bare ? maskNumber(v) : v,
      ]),
    ) as T;
  return { ...record, legs: record.legs.map(hide), events: record.events.map(hide) };
}

/** An outbound call nobody answered (busy, no answer, wrong number …): counted in the reports. */
export function outboundAttemptRecord(a: {
  callId: string;
  did: string;
  number: string;
  startedAt: number;
  endedAt: number;
  disposition: string;
}): CallRecord {
  return {
    callId: a.callId,
    direction: 'outbound',
    did: a.did,
    line: lineName(a.did),
    caller: a.number,
    callerMasked: false,
    startedAt: new Date(a.startedAt).toISOString(),
    endedAt: new Date(a.endedAt).toISOString(),
    endReason: a.disposition,
    flowId: null,
    flowVersion: null,
    ivrPath: [],
    digits: {},
    queue: null,
    originQueue: null,
    enteredQueueAt: null,
    waitMs: null,
    answered: false,
    answeredAt: null,
    abandoned: false,
    shortAbandon: false,
    agentId: null,
    agents: [],
    talkMs: null,
    holdMs: null,
    transfers: 0,
    windowId: null,
    emergency: null,
    survey: null,
    recordings: [],
    maskingBinding: null,
    hangupSide: null,
    legs: [
      {
        channelId: a.callId,
        role: 'citizen',
        party: a.number,
        dialledAt: new Date(a.startedAt).toISOString(),
        answeredAt: null,
        endedAt: new Date(a.endedAt).toISOString(),
        cause: a.disposition,
      },
    ],
    events: [
      { at: new Date(a.startedAt).toISOString(), type: 'dialled', number: a.number },
      { at: new Date(a.endedAt).toISOString(), type: 'ended', reason: a.disposition },
    ],
  };
}
