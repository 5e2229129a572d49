// The desk's keyboard shortcuts: answer, hang up, hold / resume, mute / unmute, ready, not
// ready. Function keys, because they never type a character: they work wherever the focus
// is, the window search box included, and fight no text entry; Alt+letter would open the
// browser's menus on Windows. F1 (help), F3 (find), F5 (reload), F6 (address bar), F11 and
// F12 are left to the browser. The buttons show their key and announce it (aria-keyshortcuts).
import { answer, hangUp, notReady, ready, toggleHold, toggleMute } from './desk-actions';

export const SHORTCUTS = {
  answer: 'F2',
  hangUp: 'F4',
  hold: 'F7',
  mute: 'F8',
  ready: 'F9',
  notReady: 'F10',
} as const;

const ACTIONS: Record<string, () => void> = {
  [SHORTCUTS.answer]: answer,
  [SHORTCUTS.hangUp]: hangUp,
  [SHORTCUTS.hold]: toggleHold,
  [SHORTCUTS.mute]: toggleMute,
  [SHORTCUTS.ready]: ready,
  [SHORTCUTS.notReady]: notReady,
};

function onKey(event: KeyboardEvent): void {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) return;
  const action = ACTIONS[event.key];
  if (!action) return;
  event.preventDefault(); // F10 would otherwise move the focus to the browser's menu
  action();
}

/** Listens on the whole page; returns the function that stops listening. */
export function installShortcuts(target: Window = window): () => void {
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}
