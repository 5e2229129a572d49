// The agent desk's one store: the signed-in agent (GET /api/agents/:id), their current call
// (GET /api/agents/:id/call), the roster's not-ready reasons, what the stream last said, and
// every action the desk sends. The API is the truth; the stream only says "something
// changed". So the store RESYNCS (refetches agent and call) when the stream (re)connects, on
// every agent.* event for this agent, when a wrap-up countdown reaches 0, and every 5 s as a
// safety net: what it shows is never older than one round trip after a reconnect. Of
// overlapping refetches only the latest started is applied, so a slow answer from before an
// event cannot overwrite what the event's own refetch brings.
import { reactive, watch } from 'vue';
import { api, ApiError } from '../shared/api';
import { type EventStream, liveStream } from '../shared/events';
import { errorText, i18n } from '../shared/i18n';
import { session, sessionEnded } from '../shared/session';
import type { AgentState, StreamMessage } from '../shared/types';
import type { AgentCallView, AgentView, CurrentCall, NotReadyReason } from './desk-types';

const SAFETY_REFETCH_MS = 5_000;
// A quarter second, so a countdown never shows a second more than is left (a 1 s tick can lag by 1 s).
const TICK_MS = 250;

/** What the desk says about the last action or stream event, in words; `area` picks the panel. */
export interface DeskNotice {
  area: 'state' | 'call';
  tone: 'ok' | 'error' | 'info';
  text: string;
  at: number;
}

export interface DeskState {
  agentId?: string;
  agent?: AgentView;
  call: AgentCallView | null;
  reasons: NotReadyReason[];
  /** The reason the not-ready button uses (the first reason until the agent picks one). */
  reason: string;
  /** What the desk said, newest first (a few: an action's answer and the events it caused). */
  notices: DeskNotice[];
  /** Actions in flight, by name: their buttons are disabled until the API answers. */
  busy: Record<string, boolean>;
  /** The clock the timers read (time in state, wrap-up countdown), ticking 4 times a second. */
  now: number;
  /** When agent and call were last read from the API (ms), and whether that failed. */
  syncedAt: number;
  syncProblem?: string;
}

export const desk = reactive<DeskState>({
  call: null,
  reasons: [],
  reason: '',
  notices: [],
  busy: {},
  now: Date.now(),
  syncedAt: 0,
});

const t = i18n.global.t;
let fetchSeq = 0;
/** False once GET …/call answered 404 (a controller without it): the call is then read from the stream. */
let callEndpoint = true;
let stops: Array<() => void> = [];
let unsubscribe: (() => void) | undefined;
let stopWatch: (() => void) | undefined;
let countdownSynced = '';

function base(): string {
  return `/api/agents/${encodeURIComponent(desk.agentId ?? '')}`;
}

function failed(err: unknown): ApiError {
  const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', {}, String(err));
  if (e.status === 401) sessionEnded(e);
  return e;
}

/** Reads agent and call again; only the latest started read is applied. */
export async function resync(): Promise<void> {
  if (!desk.agentId) return;
  const seq = ++fetchSeq;
  try {
    const [agent, current] = await Promise.all([
      api<AgentView>('GET', base()),
      callEndpoint
        ? api<CurrentCall>('GET', `${base()}/call`).catch((err: unknown) => {
            if (err instanceof ApiError && err.status === 404 && err.code !== 'REXIAN_UNKNOWN_AGENT') {
              callEndpoint = false;
              return undefined;
            }
            throw err;
          })
        : Promise.resolve(undefined),
    ]);
    if (seq !== fetchSeq) return;
    desk.agent = agent;
    const call = current ? current.call : callFromAgent(agent);
    if (call) forgetOtherCalls(call.callId);
    desk.call = call;
    desk.syncedAt = desk.now = Date.now();
    desk.syncProblem = undefined;
  } catch (err) {
    if (seq === fetchSeq) desk.syncProblem = errorText(failed(err));
  }
}

/** Without GET …/call: keep the call the stream described while the agent is still on one. */
function callFromAgent(agent: AgentView): AgentCallView | null {
  const call = desk.call;
  if (!agent.callId || !['reserved', 'on-call'].includes(agent.state)) return null;
  if (!call || call.callId !== agent.callId) return null;
  return { ...call, phase: agent.state === 'on-call' ? 'talking' : 'ringing' };
}

async function loadReasons(): Promise<void> {
  try {
    const { reasons } = await api<{ reasons: NotReadyReason[] }>('GET', '/api/not-ready-reasons');
    desk.reasons = reasons;
    if (!reasons.some((r) => r.code === desk.reason)) desk.reason = reasons[0]?.code ?? '';
  } catch (err) {
    failed(err);
  }
}

const KEPT_NOTICES = 6;

function say(area: DeskNotice['area'], tone: DeskNotice['tone'], text: string): void {
  desk.notices = [{ area, tone, text, at: Date.now() }, ...desk.notices].slice(0, KEPT_NOTICES);
}

/** A new call: what the desk said before it ("ready, waiting for a call" …) no longer holds. */
function forgetOtherCalls(callId: string): void {
  if (desk.call?.callId !== callId) desk.notices = [];
}

/** The newest notices of one panel (three at most). */
export function noticesOf(area: DeskNotice['area']): DeskNotice[] {
  return desk.notices.filter((n) => n.area === area).slice(0, 3);
}

/** A stream event for this agent: what it says now (in words, and in the call shown), then the API's word. */
function onEvent(event: StreamMessage): void {
  if (!('agentId' in event) || event.agentId !== desk.agentId) return;
  const call = desk.call;
  switch (event.type) {
    case 'agent.offer': {
      const { type: _type, agentId: _agent, callId, queue, at, tags, callback, transferredBy, ...pop } = event;
      forgetOtherCalls(callId);
      desk.call = {
        callId,
        queue,
        phase: 'ringing',
        held: false,
        muted: false,
        recordingPaused: false,
        offeredAt: at,
        pop: {
          ...pop,
          ...(tags ? { tags } : {}),
          ...(callback ? { callback } : {}),
          ...(transferredBy ? { transferredBy } : {}),
        },
      };
      say('call', 'info', t('desk.events.offer', { line: pop.line }));
      break;
    }
    case 'agent.offer-withdrawn':
      say('call', 'info', t('desk.events.offerWithdrawn', { cause: event.cause }));
      break;
    case 'agent.call':
      if (call && call.callId === event.callId) {
        if (event.state === 'held') call.held = true;
        // Back talking: after a resume or an unmute (the refetch below tells which flags remain).
        if (event.state === 'talking') Object.assign(call, { held: false, muted: false });
        if (event.state === 'muted') call.muted = true;
      }
      if (event.state === 'released') {
        const why = event.why ? RELEASED_WHY[event.why] : undefined;
        say('call', 'info', t('desk.events.released', { why: why ? t(why) : (event.why ?? '') }));
      }
      break;
    case 'agent.consult':
      if (call && call.callId === event.callId)
        call.consult =
          event.state === 'ended'
            ? undefined
            : { state: event.state, with: event.with, ...(event.mode ? { mode: event.mode } : {}) };
      // A blind transfer rings its target as a consultation the agent leaves: say "transferring".
      say(
        'call',
        'info',
        t(
          event.mode === 'blind' && event.state === 'ringing'
            ? 'desk.events.transferring'
            : `desk.events.consult.${event.state}`,
          {
            with: event.with,
          },
        ),
      );
      break;
    case 'agent.consult-failed':
      if (call && call.callId === event.callId) call.consult = undefined;
      say('call', 'error', t('desk.events.consultFailed', { with: event.with, cause: event.cause }));
      break;
    case 'agent.transfer-failed':
      say('call', 'error', t('desk.events.transferFailed', { with: event.with, cause: event.cause }));
      break;
    case 'agent.emergency':
      if (call && call.callId === event.callId) call.emergency = { number: event.number, state: 'dialling' };
      say('call', 'info', t('desk.events.emergency', { number: event.number }));
      break;
    case 'agent.emergency-answered':
      if (call && call.callId === event.callId) call.emergency = { number: event.number, state: 'joined' };
      say('call', 'info', t('desk.events.emergencyAnswered', { number: event.number }));
      break;
    case 'agent.emergency-failed':
      if (call && call.callId === event.callId) call.emergency = undefined;
      say('call', 'error', t('desk.events.emergencyFailed', { number: event.number, cause: event.cause }));
      break;
    case 'agent.state':
      if (desk.agent)
        Object.assign(desk.agent, {
          state: event.state,
          reason: event.reason,
          since: event.since,
          wrapUpUntil: event.wrapUpUntil ?? null,
        });
      break;
  }
  void resync();
}

/** The controller's reasons for releasing an agent (call-actions.ts), as message keys. */
const RELEASED_WHY: Record<string, string> = {
  'blind transfer': 'desk.events.why.blindTransfer',
  'transfer to a queue': 'desk.events.why.queueTransfer',
  'transfer completed': 'desk.events.why.transferCompleted',
};

function attach(stream: EventStream | undefined): void {
  unsubscribe?.();
  unsubscribe = undefined;
  stopWatch?.();
  stopWatch = undefined;
  if (!stream) return;
  unsubscribe = stream.on(onEvent);
  // Every (re)connect may have missed events: read the truth again at once.
  stopWatch = watch(
    () => stream.status.value,
    (status) => {
      if (status === 'live') void resync();
    },
    { immediate: true },
  );
}

function tick(): void {
  desk.now = Date.now();
  const until = desk.agent?.state === 'wrap-up' ? desk.agent.wrapUpUntil : null;
  // The countdown reached 0: the controller has ended wrap-up by now; show what it decided.
  if (until && Date.parse(until) <= desk.now && countdownSynced !== until) {
    countdownSynced = until;
    void resync();
  }
}

/** Starts the desk for the signed-in agent (AgentPage mounts it); stopDesk() undoes it. */
export function startDesk(): void {
  stopDesk();
  // Another sign-in (or none): nothing of the last agent's desk may show.
  Object.assign(desk, { agent: undefined, call: null, notices: [], busy: {}, syncProblem: undefined });
  desk.agentId = session.principal?.agentId;
  if (!desk.agentId) return;
  callEndpoint = true;
  void loadReasons();
  void resync();
  const timers = [setInterval(tick, TICK_MS), setInterval(() => void resync(), SAFETY_REFETCH_MS)];
  const streamWatch = watch(liveStream, attach, { immediate: true });
  stops = [streamWatch, () => attach(undefined), ...timers.map((timer) => () => clearInterval(timer))];
}

export function stopDesk(): void {
  for (const stop of stops) stop();
  stops = [];
}

/** Seconds from an ISO time to now (0 when absent). */
export function secondsSince(iso: string | null | undefined): number {
  return iso ? Math.max(0, Math.floor((desk.now - Date.parse(iso)) / 1000)) : 0;
}

/** Whole seconds until an ISO time (0 once passed). */
export function secondsUntil(iso: string | null | undefined): number {
  return iso ? Math.max(0, Math.ceil((Date.parse(iso) - desk.now) / 1000)) : 0;
}

/** "mm:ss", or "h:mm:ss" past an hour (hour seven of a shift is 6:59:59 in state, at worst). */
export function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * Sends one action of the agent (POST /api/agents/:id + path) and says what came of it in
 * words: `done` on success, the error's words otherwise. Then reads the truth again.
 */
export async function act(
  area: DeskNotice['area'],
  name: string,
  path: string,
  body: unknown,
  done: (answer: Record<string, unknown>) => string,
): Promise<boolean> {
  if (!desk.agentId || desk.busy[name]) return false;
  desk.busy[name] = true;
  try {
    const answer = await api<Record<string, unknown>>('POST', `${base()}${path}`, body ?? {});
    say(area, 'ok', done(answer ?? {}));
    return true;
  } catch (err) {
    say(area, 'error', errorText(failed(err)));
    return false;
  } finally {
    desk.busy[name] = false;
    void resync();
  }
}

/** The agent's state as shown: the store's agent, or logged out before the first read. */
export function shownState(): AgentState {
  return desk.agent?.state ?? 'logged-out';
}
