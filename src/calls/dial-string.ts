// Numbers the API and flows may dial, checked before anything reaches a dial string. An
// Asterisk dial string is a small language (`&` dials a second party, `@` picks a trunk,
// `/` a technology, `,` adds options): only digits of a known shape pass, so nobody can
// place a toll call, reach a premium-rate line or call abroad through the hotline.
import { RexianError } from '../errors/index.js';

export type DestinationKind = 'external' | 'emergency' | 'internal';

export const EMERGENCY_NUMBERS = ['110', '119', '120', '122'] as const;

export interface DialPolicy {
  /** Calls abroad (00…, +… other than +86). Off by default. */
  allowInternational?: boolean;
}

export interface Destination {
  kind: DestinationKind;
  /** The number as dialled on the trunk (digits only). */
  number: string;
}

/** Shapes of Chinese numbers a hotline may call, after +86 / 0086 is stripped. */
const DOMESTIC: Array<{ name: string; pattern: RegExp }> = [
  { name: 'mobile', pattern: /^1[3-9]\d{9}$/ },
  { name: 'landline with area code', pattern: /^0[1-9]\d{8,10}$/ },
  { name: 'local landline', pattern: /^[2-8]\d{6,7}$/ },
  { name: 'government service line', pattern: /^123\d{2}$/ },
  { name: 'public service number', pattern: /^95\d{3,6}$/ },
];

/** Premium-rate and carrier-selection prefixes (never 11-digit mobiles) that cost the hotline money. */
const BLOCKED = [/^1(60|68|69)\d/, /^17(90|95|96|97|98|99)\d/, /^12593/, /^10193/];

function bad(field: string, value: string, why: string): RexianError {
  return new RexianError('REXIAN_BAD_DIAL_STRING', `${field} "${value}" ${why}`, { field, value }, 400);
}

/**
 * Checks and normalises a number for a kind of destination. `field` names where it came
 * from (an API field, a flow node) for the error message.
 */
export function checkDestination(kind: DestinationKind, raw: string, field = 'number', policy: DialPolicy = {}): Destination {
  const value = String(raw ?? '');
  if (!/^\+?[0-9]+$/.test(value)) return fail(bad(field, value, 'may hold only digits (and a leading + for +86)'));
  if (kind === 'emergency') {
    if (!(EMERGENCY_NUMBERS as readonly string[]).includes(value)) return fail(bad(field, value, `is not an emergency number (${EMERGENCY_NUMBERS.join(', ')})`));
    return { kind, number: value };
  }
  if (kind === 'internal') {
    if (!/^[0-9]{3,8}$/.test(value)) return fail(bad(field, value, 'is not an internal extension (3–8 digits)'));
    return { kind, number: value };
  }
  let number = value.startsWith('+86') ? value.slice(3) : value.startsWith('0086') ? value.slice(4) : value;
  if (/^(\+|00)/.test(number)) {
    if (!policy.allowInternational) return fail(bad(field, value, 'is an international number, and calls abroad are not allowed'));
    number = number.replace(/^\+/, '00');
    if (!/^00[1-9]\d{6,15}$/.test(number)) return fail(bad(field, value, 'is not a valid international number'));
    return { kind, number };
  }
  // After +86 a landline has lost its trunk 0 (+86 10 xxxx is 010 xxxx); a mobile has none.
  if (value.length !== number.length && /^[1-9]\d{1,2}\d{7,8}$/.test(number) && !/^1[3-9]/.test(number)) number = `0${number}`;
  if ((EMERGENCY_NUMBERS as readonly string[]).includes(number)) return fail(bad(field, value, 'is an emergency number: use an emergency transfer'));
  if (number.length !== 11 && BLOCKED.some((p) => p.test(number))) return fail(bad(field, value, 'is a premium-rate or carrier-selection number'));
  if (!DOMESTIC.some((d) => d.pattern.test(number))) {
    return fail(bad(field, value, `is not a number we may call (${DOMESTIC.map((d) => d.name).join(', ')})`));
  }
  return { kind, number };
}

function fail(err: RexianError): never {
  throw err;
}
