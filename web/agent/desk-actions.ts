// Everything the agent can do from the desk, one function each, shared by the buttons and
// the keyboard shortcuts: each sends its API request through the store (which says in words
// what came of it and reads the truth again). Answering is the browser phone's (its SIP
// answer, through currentPhone); hanging up is the API's, except a call that only rings.
import { currentPhone } from '../shared/phone/current';
import { i18n } from '../shared/i18n';
import { act, desk, shownState } from './desk-store';
import type { TransferTarget } from './desk-types';

const t = i18n.global.t;
const reasonLabel = (code: string): string => desk.reasons.find((r) => r.code === code)?.label ?? code;
const onCall = (): boolean => ['reserved', 'on-call'].includes(shownState());
const talking = (): boolean => desk.call?.phase === 'talking' || shownState() === 'on-call';

export function ready(): void {
  void act('state', 'ready', '/ready', undefined, () => t('desk.state.done.ready'));
}

/** Not ready with the chosen reason (the first when none is chosen); on a call: after it. */
export function notReady(): void {
  const reason = desk.reason || desk.reasons[0]?.code || '';
  const label = reasonLabel(reason);
  const after = onCall();
  void act('state', 'not-ready', '/not-ready', { reason }, () =>
    t(after ? 'desk.state.done.notReadyAfterCall' : 'desk.state.done.notReady', { reason: label }),
  );
}

export function logIn(): void {
  void act('state', 'log-in', '/login', {}, () => t('desk.state.done.logIn'));
}

export function logOut(): void {
  void act('state', 'log-out', '/logout', undefined, () => t('desk.state.done.logOut'));
}

export function endWrapUp(): void {
  void act('state', 'end-wrap-up', '/end-wrap-up', undefined, () => t('desk.state.done.endWrapUp'));
}

export function answer(): void {
  currentPhone.value?.answer();
}

export function hangUp(): void {
  if (!talking()) {
    currentPhone.value?.hangUp(); // only ringing: decline it on the phone
    return;
  }
  void act('call', 'hangup', '/call/hangup', undefined, () => t('desk.controls.done.hangUp'));
}

export function toggleHold(): void {
  if (desk.call?.held) void act('call', 'hold', '/call/resume', undefined, () => t('desk.controls.done.resumed'));
  else void act('call', 'hold', '/call/hold', undefined, () => t('desk.controls.done.held'));
}

export function toggleMute(): void {
  if (desk.call?.muted) void act('call', 'mute', '/call/unmute', undefined, () => t('desk.controls.done.unmuted'));
  else void act('call', 'mute', '/call/mute', undefined, () => t('desk.controls.done.muted'));
}

export function toggleRecording(): void {
  if (desk.call?.recordingPaused)
    void act('call', 'recording', '/call/recording/resume', undefined, () => t('desk.controls.done.recordingResumed'));
  else void act('call', 'recording', '/call/recording/pause', undefined, () => t('desk.controls.done.recordingPaused'));
}

/** The target in words, for what the desk says. */
function named(target: TransferTarget, answer: Record<string, unknown>): string {
  const label = answer.to ?? answer.consulting;
  if (typeof label === 'string' && label) return label;
  return Object.values(target)[0] ?? '';
}

export function transfer(target: TransferTarget): Promise<boolean> {
  return act('call', 'transfer', '/call/transfer', target, (a) =>
    t('desk.controls.done.transferred', { to: named(target, a) }),
  );
}

export function consult(target: TransferTarget): Promise<boolean> {
  return act('call', 'consult', '/call/consult', target, (a) =>
    t('desk.controls.done.consulting', { to: named(target, a) }),
  );
}

export function completeConsult(): void {
  void act('call', 'consult-end', '/call/consult/complete', undefined, (a) =>
    t('desk.controls.done.transferred', { to: String(a.to ?? desk.call?.consult?.with ?? '') }),
  );
}

export function conference(): void {
  void act('call', 'consult-end', '/call/consult/conference', undefined, (a) =>
    t('desk.controls.done.conference', { with: String(a.with ?? desk.call?.consult?.with ?? '') }),
  );
}

export function cancelConsult(): void {
  void act('call', 'consult-end', '/call/consult/cancel', undefined, (a) =>
    t('desk.controls.done.consultCancelled', { with: String(a.with ?? desk.call?.consult?.with ?? '') }),
  );
}

export function emergency(number: string): void {
  void act('call', 'emergency', '/call/emergency', { number }, () => t('desk.controls.done.emergency', { number }));
}
