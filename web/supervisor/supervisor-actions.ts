// What a supervisor does from the page, each saying in words what happened or why not:
// force an agent of their teams not ready (with a reason) or sign them out; monitor, whisper
// or barge on a live call through their own browser phone or a desk phone, switch mode without
// hanging up, take the
// call over, stop; acknowledge an alert. The API checks the teams and audits every action.
import { api } from '../shared/api';
import { errorText, i18n } from '../shared/i18n';
import { seatPhone } from './seat-phone';
import { board, failed, loadAgents, loadAlerts, loadLiveCalls, type Notice } from './supervisor-store';
import type { AgentView, SupervisionMode } from './supervisor-types';

const t = i18n.global.t;

function say(area: Notice['area'], tone: Notice['tone'], text: string): void {
  board.notice = { area, tone, text, at: Date.now() };
}

/** An API refusal in words: the supervisor page's own wording first, then the shared catalogue's. */
export function supervisorError(err: unknown): string {
  const e = failed(err);
  if (e.code === 'REXIAN_BAD_REQUEST' && e.details.field === 'phone') return t('supervisor.errors.noPhone');
  const key = `supervisor.errors.${e.code}`;
  // A refusal that names the agent's state is best said by the shared words, which name it.
  const namesState = e.code === 'REXIAN_AGENT_STATE' && typeof e.details.state === 'string';
  if (!namesState && i18n.global.te(key)) return t(key, { agentId: String(e.details.agentId ?? board.phone) });
  return errorText(e);
}

async function run(area: Notice['area'], busyKey: string, work: () => Promise<string>): Promise<boolean> {
  if (board.busy[busyKey]) return false;
  board.busy[busyKey] = true;
  try {
    say(area, 'ok', await work());
    return true;
  } catch (err) {
    say(area, 'error', supervisorError(err));
    return false;
  } finally {
    board.busy[busyKey] = false;
  }
}

const agentPath = (a: AgentView, action: string): string => `/api/agents/${encodeURIComponent(a.id)}/${action}`;

export function forceNotReady(agent: AgentView, reason: string): Promise<boolean> {
  return run('agents', `agent:${agent.id}`, async () => {
    const after = await api<AgentView>('POST', agentPath(agent, 'not-ready'), { reason });
    void loadAgents();
    const label = board.reasons.find((r) => r.code === reason)?.label ?? reason;
    const key = after.state === 'not-ready' ? 'notReady' : 'notReadyAfterCall';
    return t(`supervisor.agents.done.${key}`, { name: agent.name, reason: label });
  });
}

export function forceSignOut(agent: AgentView): Promise<boolean> {
  return run('agents', `agent:${agent.id}`, async () => {
    await api('POST', agentPath(agent, 'logout'));
    void loadAgents();
    return t('supervisor.agents.done.signedOut', { name: agent.name });
  });
}

const callPath = (callId: string, tail = ''): string => `/api/calls/${encodeURIComponent(callId)}${tail}`;
const modeWord = (mode: SupervisionMode): string => t(`supervisor.calls.modes.${mode}`);

/** Why the browser phone cannot take a supervision call now, in words; undefined when it can. */
function seatProblem(): string | undefined {
  const s = seatPhone.status;
  if (s.state === 'registered') return seatPhone.call.state === 'idle' ? undefined : t('supervisor.errors.seatBusy');
  const why =
    s.state === 'reconnecting'
      ? t('phone.reconnecting')
      : s.reason === 'elsewhere'
        ? t('supervisor.seat.elsewhere')
        : t(`phone.reasons.${s.reason}`);
  return t('supervisor.errors.noSeat', { why });
}

/**
 * Rings the supervisor's phone; they join in `mode` when they answer. A desk phone typed in
 * wins; else the API rings the supervisor's own browser seat (which answers by itself), when
 * the page's browser phone is registered and free.
 */
export function supervise(callId: string, mode: SupervisionMode): Promise<boolean> {
  const phone = board.phone.trim();
  if (!phone) {
    const problem = seatProblem();
    if (problem) {
      say('calls', 'error', problem);
      return Promise.resolve(false);
    }
  }
  return run('calls', `call:${callId}`, async () => {
    await api('POST', callPath(callId, '/supervise'), phone ? { mode, phone } : { mode });
    board.mine[callId] = { mode, since: Date.now() };
    void loadLiveCalls();
    return phone
      ? t('supervisor.calls.done.start', { phone, mode: modeWord(mode) })
      : t('supervisor.calls.done.startSeat', { mode: modeWord(mode) });
  });
}

/** Another mode on the same supervisor channel: the phone stays up. */
export function switchMode(callId: string, mode: SupervisionMode): Promise<boolean> {
  return run('calls', `call:${callId}`, async () => {
    await api('POST', callPath(callId, '/supervise/mode'), { mode });
    board.mine[callId] = { ...board.mine[callId], mode, since: board.mine[callId]?.since ?? Date.now() };
    return t('supervisor.calls.done.mode', { mode: modeWord(mode) });
  });
}

export function takeOver(callId: string): Promise<boolean> {
  return run('calls', `call:${callId}`, async () => {
    const answer = await api<{ takenOverFrom?: string }>('POST', callPath(callId, '/take-over'));
    board.mine[callId] = { mode: 'barge', takenOver: true, since: board.mine[callId]?.since ?? Date.now() };
    void loadLiveCalls();
    return t('supervisor.calls.done.takeOver', { agent: answer.takenOverFrom ?? '' });
  });
}

export function stopSupervising(callId: string): Promise<boolean> {
  return run('calls', `call:${callId}`, async () => {
    await api('DELETE', callPath(callId, '/supervise'));
    delete board.mine[callId];
    void loadLiveCalls();
    return t('supervisor.calls.done.stop');
  });
}

export function acknowledge(alertId: string): Promise<boolean> {
  return run('alerts', `alert:${alertId}`, async () => {
    await api('POST', `/api/alerts/${encodeURIComponent(alertId)}/ack`);
    void loadAlerts();
    return t('supervisor.alerts.done');
  });
}
