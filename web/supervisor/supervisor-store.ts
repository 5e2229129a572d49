// The supervisor page's one store: the live figures (queue.figures, every second), the agents
// of the supervisor's teams (GET /api/agents: the API filters by team) with their current
// call and their day, the live calls (GET /api/calls, also filtered by team), the roster's
// not-ready reasons and the active alerts. The stream says what changed; the API is the
// truth: a (re)connect refetches everything, an agent.state event refetches that agent's
// call, and slow polls are the safety net (agents 5 s, calls 2 s, days 30 s, alerts 15 s); the last
// 30 minutes' service level (GET /api/alerts/figures) is read every 5 s.
import { reactive, watch } from 'vue';
import { api, ApiError } from '../shared/api';
import { type EventStream, liveStream } from '../shared/events';
import { session, sessionEnded } from '../shared/session';
import type { StreamMessage } from '../shared/types';
import { newAlertTone } from './alert-tone';
import type {
  ActiveAlert,
  AgentCallView,
  AgentDay,
  AgentView,
  AlertAcknowledgedEvent,
  AlertClearedEvent,
  AlertFiredEvent,
  LiveCallView,
  NotReadyReason,
  OverallFigures,
  QueueFigures,
  RecentFigures,
  SupervisionMode,
} from './supervisor-types';

export interface Notice {
  area: 'agents' | 'calls' | 'alerts';
  tone: 'ok' | 'error';
  text: string;
  at: number;
}

export interface SupervisorState {
  figures?: { queues: QueueFigures[]; overall: OverallFigures; at: string };
  /** Service level over the last 30 minutes (GET /api/alerts/figures), when the controller gives it. */
  recent?: RecentFigures;
  agents: AgentView[];
  /** The queues each agent serves (GET /api/agents/:id/queues), for the queue filter. */
  agentQueues: Record<string, string[]>;
  calls: Record<string, AgentCallView | null>;
  days: Record<string, { callsTaken: number; satisfactionRate: number | null }>;
  /** False when the controller has no GET /api/agents/:id/day: the columns are left out. */
  dayColumns: boolean;
  liveCalls: LiveCallView[];
  reasons: NotReadyReason[];
  alerts: ActiveAlert[];
  /** The calls this page supervises, with the mode (kept for the tab's life: a reload keeps it). */
  mine: Record<string, { mode: SupervisionMode; takenOver?: boolean; since: number }>;
  /** The supervisor's desk phone (a roster id), kept in the browser. */
  phone: string;
  notice?: Notice;
  busy: Record<string, boolean>;
  now: number;
  bigScreen: boolean;
}

const PHONE_KEY = 'rexian.supervisor.phone';
const MINE_KEY = 'rexian.supervisor.mine';

export const board = reactive<SupervisorState>({
  agents: [],
  agentQueues: {},
  calls: {},
  days: {},
  dayColumns: true,
  liveCalls: [],
  reasons: [],
  alerts: [],
  mine: JSON.parse(sessionStorage.getItem(MINE_KEY) ?? '{}') as SupervisorState['mine'],
  phone: localStorage.getItem(PHONE_KEY) ?? '',
  busy: {},
  now: Date.now(),
  bigScreen: false,
});

watch(
  () => board.phone,
  (phone) => localStorage.setItem(PHONE_KEY, phone),
);
watch(
  () => board.mine,
  (mine) => sessionStorage.setItem(MINE_KEY, JSON.stringify(mine)),
  { deep: true },
);

let stops: Array<() => void> = [];
let alertsApi = true;
let recentApi = true;

/** A failure of a read: a 401 ends the session (back to the form); others wait for the next poll. */
export function failed(err: unknown): ApiError {
  const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', {}, String(err));
  if (e.status === 401) sessionEnded(e);
  return e;
}

const onCall = (a: AgentView): boolean => (a.state === 'reserved' || a.state === 'on-call') && Boolean(a.callId);

async function loadCall(agentId: string): Promise<void> {
  try {
    const { call } = await api<{ call: AgentCallView | null }>(
      'GET',
      `/api/agents/${encodeURIComponent(agentId)}/call`,
    );
    board.calls[agentId] = call;
  } catch (err) {
    failed(err);
  }
}

export async function loadAgents(): Promise<void> {
  try {
    const { agents } = await api<{ agents: AgentView[] }>('GET', '/api/agents');
    board.agents = agents;
    const known = new Set(agents.map((a) => a.id));
    for (const id of Object.keys(board.calls)) if (!known.has(id)) delete board.calls[id];
    await Promise.all(
      agents.map((a) => {
        if (onCall(a)) return loadCall(a.id);
        board.calls[a.id] = null;
        return undefined;
      }),
    );
    const unseen = agents.filter((a) => !(a.id in board.agentQueues));
    await Promise.all(unseen.map((a) => loadAgentQueues(a.id)));
  } catch (err) {
    failed(err);
  }
}

async function loadAgentQueues(agentId: string): Promise<void> {
  try {
    const { queues } = await api<{ queues: Array<{ id: string }> }>(
      'GET',
      `/api/agents/${encodeURIComponent(agentId)}/queues`,
    );
    board.agentQueues[agentId] = queues.map((q) => q.id);
  } catch (err) {
    failed(err);
  }
}

export async function loadDays(): Promise<void> {
  if (!board.dayColumns) return;
  await Promise.all(
    board.agents.map(async (a) => {
      try {
        const day = await api<AgentDay>('GET', `/api/agents/${encodeURIComponent(a.id)}/day`);
        board.days[a.id] = { callsTaken: day.callsTaken, satisfactionRate: day.satisfaction.rate };
      } catch (err) {
        const e = failed(err);
        if (e.code === 'REXIAN_NO_SUCH_ROUTE') board.dayColumns = false;
      }
    }),
  );
}

export async function loadLiveCalls(): Promise<void> {
  try {
    const { calls } = await api<{ calls: LiveCallView[] }>('GET', '/api/calls');
    board.liveCalls = calls;
    // A call that ended, or whose supervision ended (the phone never answered, or hung up), is
    // no longer this page's; a list read before our own start landed is not proof of that.
    const supervised = new Set(calls.filter((c) => c.supervised).map((c) => c.callId));
    for (const [id, mine] of Object.entries(board.mine))
      if (!supervised.has(id) && Date.now() - mine.since > 3_000) delete board.mine[id];
  } catch (err) {
    failed(err);
  }
}

async function loadReasons(): Promise<void> {
  try {
    board.reasons = (await api<{ reasons: NotReadyReason[] }>('GET', '/api/not-ready-reasons')).reasons;
  } catch (err) {
    failed(err);
  }
}

/** GET /api/alerts (engineer H7): the active ones sound when new; a controller without it answers 404. */
export async function loadAlerts(): Promise<void> {
  if (!alertsApi) return;
  try {
    const { active } = await api<{ active: ActiveAlert[] }>('GET', '/api/alerts');
    for (const a of active) if (!board.alerts.some((b) => b.alertId === a.alertId)) newAlertTone(a.severity);
    board.alerts = [...active].reverse(); // newest first
  } catch (err) {
    const e = failed(err);
    if (e.status === 404) alertsApi = false;
  }
}

export async function loadRecent(): Promise<void> {
  if (!recentApi) return;
  try {
    board.recent = await api<RecentFigures>('GET', '/api/alerts/figures?minutes=30');
  } catch (err) {
    const e = failed(err);
    if (e.status === 404) recentApi = false;
  }
}

function onAlert(event: AlertFiredEvent | AlertClearedEvent | AlertAcknowledgedEvent): void {
  if (event.type === 'alert.fired') {
    const { type: _type, ...alert } = event as AlertFiredEvent & { at?: string };
    delete alert.at;
    if (!board.alerts.some((a) => a.alertId === alert.alertId)) {
      board.alerts = [alert, ...board.alerts];
      newAlertTone(alert.severity);
    }
  } else if (event.type === 'alert.cleared') {
    board.alerts = board.alerts.filter((a) => a.alertId !== event.alertId);
  } else {
    const alert = board.alerts.find((a) => a.alertId === event.alertId);
    if (alert) alert.acknowledgedBy = event.by;
  }
}

function onEvent(event: StreamMessage): void {
  if (event.type === 'alert.fired' || event.type === 'alert.cleared' || event.type === 'alert.acknowledged')
    return onAlert(event);
  if (event.type === 'queue.figures') {
    board.figures = { queues: event.queues, overall: event.overall, at: event.at };
    return;
  }
  if (event.type !== 'agent.state') return;
  const agent = board.agents.find((a) => a.id === event.agentId);
  if (!agent) return void loadAgents();
  Object.assign(agent, {
    state: event.state,
    reason: event.reason,
    since: event.since,
    callId: event.callId ?? null,
    wrapUpUntil: event.wrapUpUntil ?? null,
  });
  if (!event.reason) delete agent.reasonLabel;
  else agent.reasonLabel = board.reasons.find((r) => r.code === event.reason)?.label ?? event.reason;
  if (onCall(agent)) void loadCall(agent.id);
  else board.calls[agent.id] = null;
  // A call just ended for this agent: their day has one more call.
  if (event.previous === 'on-call') void loadDays();
  void loadLiveCalls();
}

function refreshAll(): void {
  void loadAgents().then(loadDays);
  void loadLiveCalls();
  void loadAlerts();
  void loadRecent();
}

function attach(stream: EventStream | undefined): () => void {
  if (!stream) return () => undefined;
  const off = stream.on(onEvent);
  const stopWatch = watch(
    () => stream.status.value,
    (status) => {
      if (status === 'live') refreshAll();
    },
    { immediate: true },
  );
  return () => {
    off();
    stopWatch();
  };
}

/** Starts the page's reads for the signed-in supervisor; stopBoard() undoes it. */
export function startBoard(): void {
  stopBoard();
  if (!session.principal) return;
  void loadReasons();
  refreshAll();
  let detach = (): void => undefined;
  const streamWatch = watch(
    liveStream,
    (stream) => {
      detach();
      detach = attach(stream);
    },
    { immediate: true },
  );
  const timers = [
    setInterval(() => (board.now = Date.now()), 1000),
    setInterval(() => void loadAgents(), 5_000),
    setInterval(() => void loadLiveCalls(), 2_000),
    setInterval(() => void loadDays(), 30_000),
    setInterval(() => void loadAlerts(), 15_000),
    setInterval(() => void loadRecent(), 5_000),
  ];
  stops = [streamWatch, () => detach(), ...timers.map((timer) => () => clearInterval(timer))];
}

export function stopBoard(): void {
  for (const stop of stops) stop();
  stops = [];
}

/** Whole seconds from an ISO time to the page's clock (0 when absent). */
export function secondsSince(iso: string | null | undefined): number {
  return iso ? Math.max(0, Math.floor((board.now - Date.parse(iso)) / 1000)) : 0;
}
