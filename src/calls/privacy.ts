// Who may read a citizen's number. One decision, used by every surface a person or a log
// reads (API replies, the event stream, call records, logs), so no surface can drift:
//
// - A call is **masked** when it is an AXB call (its number is one of the virtual pool's, or
//   the masking domain bound it), when the caller asked for confidentiality (the flow set
//   `privacy: yes`), or when a queue it was in shows callers masked (`callerNumber: masked`).
// - A masked call's number is shown as 138****0111 everywhere. The real number stays only
//   where a callback needs it (the call's live state, the waiting list, the callback stream):
//   storage that no person reads through the API.
// - Logs never carry a subscriber's number, masked call or not: at "call entered" nobody
//   knows yet which queue the flow will choose, and a log line cannot be unwritten. The
//   redaction is configured once, where the logger is made (logRedaction below).
// - A token with `revealNumbers: true` sees real numbers in the live-calls list; every such
//   view is appended to the audit stream with who and which call.
import type { CallRecordState } from './call.js';

/** What the privacy decision needs to know of the configuration (it changes on SIGHUP). */
export interface PrivacyPolicy {
  /** A number of the virtual-number pool: a call to it is an AXB call. */
  isVirtual(did: string): boolean;
  /** The queue shows its callers masked (`callerNumber: masked` in the queues file). */
  queueMasks(queueId: string): boolean;
}

/** A flow sets the variable `privacy` (to yes, true or 1) when the caller asks for confidentiality. */
export function askedForPrivacy(vars: Record<string, string> | undefined): boolean {
  return /^(1|yes|true)$/i.test(vars?.privacy ?? '');
}

/** 13800000111 → 138****0111; short numbers keep only their last two digits. */
export function maskNumber(number: string): string {
  const digits = number.replace(/^\+86/, '');
  if (digits.length >= 8) return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
  if (digits.length <= 2) return '*'.repeat(digits.length);
  return `${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

interface AcdPrivacyView {
  queue?: string;
  origin?: string;
  callerMasked?: boolean;
  ivr?: { vars?: Record<string, string> };
}

/** Whether a call's number must be masked on every surface a person or a log reads. */
export function isMasked(state: Pick<CallRecordState, 'did' | 'flow'>, policy?: PrivacyPolicy): boolean {
  const flow = state.flow;
  if (flow.maskingBinding || flow.masking) return true;
  if (policy?.isVirtual(state.did)) return true;
  const acd = flow.acd as AcdPrivacyView | undefined;
  if (acd?.callerMasked) return true;
  if (
    askedForPrivacy(acd?.ivr?.vars) ||
    askedForPrivacy((flow.ivr as { vars?: Record<string, string> } | undefined)?.vars)
  )
    return true;
  // The queue it waits in, and the one it entered first (an overflow or a transfer moves it on).
  return [acd?.queue, acd?.origin].some((q) => q !== undefined && q !== '' && policy?.queueMasks(q) === true);
}

/** The call's number as a reader may see it: masked for a masked call, unless revealed. */
export function visibleNumber(number: string, masked: boolean, reveal = false): string {
  return masked && !reveal ? maskNumber(number) : number;
}

/** Log fields that may hold a subscriber's number (top level, or one level down). */
const LOG_NUMBER_FIELDS = ['caller', 'number', 'callback', 'callbackNumber', 'citizen'];

/**
 * A value as a log may carry it: a string of seven or more digits (a subscriber's mobile or
 * landline) is masked; service numbers (110, 12345, 95588) and everything else pass.
 */
export function logSafe(value: unknown): unknown {
  return typeof value === 'string' && /^\+?\d{7,}$/.test(value) ? maskNumber(value) : value;
}

/** pino's `redact` option: every logger of the controller is made with it (main.ts, server.ts). */
export const logRedaction = {
  paths: [...LOG_NUMBER_FIELDS, ...LOG_NUMBER_FIELDS.map((f) => `*.${f}`), 'vars.*', '*.vars.*'],
  censor: (value: unknown, path: string[]): unknown =>
    path.includes('vars') ? logSafeVariable(value) : logSafe(value),
};

/**
 * What a flow collected (`vars`) as a log may carry it: callers key in ID numbers (18 digits,
 * perhaps ending in X), credit codes and callback numbers, so any value with a run of six or
 * more digits keeps only its last four; menu keys and short answers pass.
 */
export function logSafeVariable(value: unknown): unknown {
  if (typeof value !== 'string' || !/\d{6,}/.test(value)) return value;
  return value.length > 4 ? `${'*'.repeat(value.length - 4)}${value.slice(-4)}` : value;
}
