// Feature codes an agent dials from a SIP desk phone or headset, without a screen: what each
// code means, read from the dialled digits. Pure (no Asterisk, no Redis), so it is tested on
// its own; ./feature-codes.ts answers the phone and applies the change.
// The codes come from the config (`deskPhone.codes`, defaults in src/config/index.ts); a reason
// is the digits after the not-ready code, mapped to the roster's reason codes by
// `deskPhone.reasonDigits`, or, without that key, numbered 1, 2, 3 … in the roster's order.
import { RexianError } from '../errors/index.js';

export interface DeskPhoneCodes {
  signIn: string;
  signOut: string;
  ready: string;
  notReady: string;
  endWrapUp: string;
}

export type DeskPhoneAction =
  | { kind: 'sign-in' }
  | { kind: 'sign-out' }
  | { kind: 'ready' }
  | { kind: 'not-ready'; reason: string }
  | { kind: 'end-wrap-up' };

export type ParsedCode =
  | { ok: true; action: DeskPhoneAction }
  | { ok: false; why: 'unknown-code' }
  | { ok: false; why: 'unknown-reason'; digits: string };

const SIMPLE: Array<[keyof DeskPhoneCodes, DeskPhoneAction['kind']]> = [
  ['signIn', 'sign-in'],
  ['signOut', 'sign-out'],
  ['ready', 'ready'],
  ['endWrapUp', 'end-wrap-up'],
];

/**
 * Refuses codes one could not tell apart: a code that begins another (*2 and *21) would make
 * the longer one unreachable, and a code that begins with the not-ready code would read as a
 * reason. Thrown at start, naming the key.
 */
export function checkCodes(codes: DeskPhoneCodes): void {
  const entries = Object.entries(codes) as Array<[keyof DeskPhoneCodes, string]>;
  for (const [a, codeA] of entries)
    for (const [b, codeB] of entries)
      if (a !== b && codeB.startsWith(codeA))
        throw new RexianError(
          'REXIAN_CONFIG_INVALID',
          { key: `deskPhone.codes.${b}` },
          `deskPhone.codes.${b} (${codeB}) begins with deskPhone.codes.${a} (${codeA}): a phone could not tell them apart`,
        );
}

/** Digits → reason code: the configured map, or the roster's reasons numbered from 1 in its order. */
export function reasonDigits(
  configured: Record<string, string> | undefined,
  rosterReasons: string[],
): Map<string, string> {
  if (configured) return new Map(Object.entries(configured));
  return new Map(rosterReasons.map((code, i) => [String(i + 1), code]));
}

/**
 * What the dialled digits ask for. The not-ready code alone means reason 1. Anything that is
 * not exactly a code (trailing digits, letters, another prefix) is an unknown code.
 */
export function parseFeatureCode(dialled: string, codes: DeskPhoneCodes, reasons: Map<string, string>): ParsedCode {
  for (const [key, kind] of SIMPLE)
    if (dialled === codes[key]) return { ok: true, action: { kind } as DeskPhoneAction };
  if (dialled.startsWith(codes.notReady)) {
    const digits = dialled.slice(codes.notReady.length) || '1';
    if (!/^[0-9]{1,2}$/.test(digits)) return { ok: false, why: 'unknown-code' };
    const reason = reasons.get(digits);
    return reason ? { ok: true, action: { kind: 'not-ready', reason } } : { ok: false, why: 'unknown-reason', digits };
  }
  return { ok: false, why: 'unknown-code' };
}

/** The agent an endpoint belongs to: `agent-<id>` (src/asterisk/ids.ts agentEndpoint), else undefined. */
export function agentOfEndpoint(endpoint: string): string | undefined {
  const m = /^agent-([0-9A-Za-z_-]{1,32})$/.exec(endpoint);
  return m?.[1];
}

/**
 * The endpoint of a PJSIP channel, from the channel's name as Asterisk made it
 * (`PJSIP/<endpoint>-<8 hex digits>`): what the phone authenticated as, never its caller id.
 */
export function endpointOfChannel(channelName: string): string | undefined {
  const m = /^PJSIP\/(.+)-[0-9a-f]{8}$/.exec(channelName);
  return m?.[1];
}
