// Numbers the API and flows may dial, checked before anything reaches a dial string. An
// Asterisk dial string is a small language (`&` dials a second party, `@` picks a trunk,
// `/` a technology, `,` adds options): only digits of a known shape pass, so nobody can
// place a toll call, reach a premium-rate line or call abroad through the hotline.
//
// Every number that reaches the carrier trunk goes through checkDestination: transfers,
// consultations and windows (acd/), callbacks and their dialer tasks (dialer/, acd/), bindings
// (masking/) and a flow's `transfer` node (ivr/lint.ts). A shape is not enough: an eleven-digit
// 168… or 169… number looks like a mobile and is a premium information service. So a mobile
// must start with a prefix the MIIT has actually allocated to a mobile network for voice,
// and everything else is refused, saying why. When in doubt we refuse: a refused real number
// costs a citizen a call from a person instead; a premium line costs the hotline money.
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

/** Why a number was refused: `details.reason` of REXIAN_BAD_DIAL_STRING. */
export type RefusalReason =
  | 'not-digits'
  | 'emergency-number'
  | 'not-emergency'
  | 'not-internal'
  | 'international'
  | 'bad-international'
  | 'information-service'
  | 'service-number'
  | 'carrier-code'
  | 'satellite'
  | 'iot-only'
  | 'not-mobile-range'
  | 'not-landline'
  | 'unknown-shape'
  | 'not-endpoint';

/**
 * Mobile network codes (网号) allocated for voice, from the MIIT's table "我国公众移动通信网网号及
 * H0分配情况（截至2023年3月底）" (published 2023-06-05, under 《电信网编号计划（2017年版）》; text at
 * zh.wikisource.org, same title). Its note: 170, 171, 162, 165, 167 are mobile resale (virtual
 * operators: voice numbers like any other); 174, 1349 and 1619 are satellite, billed far above a
 * mobile, refused below. 145, 147 and 149 are the three networks' data-card ranges: billed as
 * mobiles, and some carry voice (147 is also the mainland number of China Mobile's Hong Kong
 * dual-number card), so they pass. 146, 148 and 172 are allocated but used for IoT only (no voice:
 * Chinese Wikipedia's 中国大陆移动终端通信号段, 2024), and 140–144 are thirteen-digit IoT numbers.
 * Not allocated as mobiles: 154, 160, 161 (but 1619), 163, 164, 168, 169, 179, 194.
 */
const MOBILE_NETWORKS = new Set([
  '130',
  '131',
  '132',
  '133',
  '134',
  '135',
  '136',
  '137',
  '138',
  '139',
  '145',
  '147',
  '149',
  '150',
  '151',
  '152',
  '153',
  '155',
  '156',
  '157',
  '158',
  '159',
  '162',
  '165',
  '166',
  '167',
  '170',
  '171',
  '173',
  '175',
  '176',
  '177',
  '178',
  '180',
  '181',
  '182',
  '183',
  '184',
  '185',
  '186',
  '187',
  '188',
  '189',
  '190',
  '191',
  '192',
  '193',
  '195',
  '196',
  '197',
  '198',
  '199',
]);
const SATELLITE = /^(1349|174|1619)/;
const IOT_ONLY = /^(14[0-468]|172)/;

/**
 * Information services and carrier codes, at the start of a national number or of a landline's
 * subscriber number. 160, 168 and 169 are the information-service (声讯) access codes, 1259x the
 * paid voice-information and paging codes; 95xxx(x) and 96xxx(x) are national and local service
 * numbers, some of which are charged information services that no shape tells apart from a bank's
 * hotline (so none is dialled; a window or a flow sends callers to such a line, not our trunk).
 * 10xxx are carriers' access and service codes (10193 picks a long-distance carrier), 179xx the
 * IP-dialling carrier-selection prefixes (17951 …).
 */
const INFORMATION_SERVICE = /^(1(60|68|69)|1259)/;
const SERVICE_NUMBER = /^9[56]/;
const CARRIER_CODE = /^(10|179)/;

/** Area codes: 010 Beijing, 02x the big cities, 0[3-9]xx the rest (three digits after the trunk 0). */
const AREA_CODE = /^(010|02\d|0[3-9]\d\d)/;

/** Government service lines of the 12345 family (12345, 12315, 12329, 12333, 12366, 12348 …). */
const GOVERNMENT_LINE = /^123\d{2}$/;

const SHAPES =
  'a mobile of an allocated range, a landline with its area code, a local landline, a 123xx government line';

function bad(field: string, value: string, reason: RefusalReason, why: string): RexianError {
  return new RexianError('REXIAN_BAD_DIAL_STRING', { field, value, reason }, why);
}

/**
 * Checks and normalises a number for a kind of destination. `field` names where it came
 * from (an API field, a flow node) for the error message.
 */
export function checkDestination(
  kind: DestinationKind,
  raw: string,
  field = 'number',
  policy: DialPolicy = {},
): Destination {
  const value = typeof raw === 'string' ? raw : String(raw ?? '');
  if (!/^\+?[0-9]+$/.test(value))
    return fail(bad(field, value, 'not-digits', 'may hold only digits (and a leading + for +86)'));
  if (kind === 'emergency') {
    if (!(EMERGENCY_NUMBERS as readonly string[]).includes(value)) {
      return fail(bad(field, value, 'not-emergency', `is not an emergency number (${EMERGENCY_NUMBERS.join(', ')})`));
    }
    return { kind, number: value };
  }
  if (kind === 'internal') {
    if (!/^[0-9]{3,8}$/.test(value))
      return fail(bad(field, value, 'not-internal', 'is not an internal extension (3–8 digits)'));
    return { kind, number: value };
  }
  let number = value.startsWith('+86') ? value.slice(3) : value.startsWith('0086') ? value.slice(4) : value;
  if (/^(\+|00)/.test(number)) {
    if (!policy.allowInternational)
      return fail(bad(field, value, 'international', 'is an international number, and calls abroad are not allowed'));
    number = number.replace(/^\+/, '00');
    if (!/^00[1-9]\d{6,15}$/.test(number))
      return fail(bad(field, value, 'bad-international', 'is not a valid international number'));
    return { kind, number };
  }
  // After +86 a landline has lost its trunk 0 (+86 10 xxxx is 010 xxxx); a mobile has none.
  if (value.length !== number.length && /^[2-9]|^10/.test(number)) number = `0${number}`;
  if ((EMERGENCY_NUMBERS as readonly string[]).includes(number)) {
    return fail(bad(field, value, 'emergency-number', 'is an emergency number: use an emergency transfer'));
  }
  const refusal = refusalOf(number);
  if (refusal) return fail(bad(field, value, refusal[0], refusal[1]));
  return { kind, number };
}

/**
 * The name of one of our own PJSIP endpoints (an agent's or a supervisor's seat) before it goes
 * into `PJSIP/<name>`: letters, digits, `_`, `.` and `-` only, so no `&`, `/`, `@` or `,` can
 * add a party, a trunk or options to the dial string. Returns the dial string.
 */
export function endpointDialString(name: string, field = 'phone'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(name))
    return fail(bad(field, String(name), 'not-endpoint', 'is not one of our SIP endpoints (letters, digits, _ . -)'));
  return `PJSIP/${name}`;
}

/** Whether a number would pass as an external destination (for code that only decides, e.g. offering a callback). */
export function isDialable(raw: string): boolean {
  try {
    checkDestination('external', raw);
    return true;
  } catch {
    return false;
  }
}

/** Why a national number (no +86, landlines with their trunk 0) may not be dialled, or undefined. */
function refusalOf(number: string): [RefusalReason, string] | undefined {
  if (number.startsWith('0')) {
    const area = AREA_CODE.exec(number)?.[0];
    if (!area)
      return ['not-landline', `is not a landline: ${number.slice(0, 4)}… is not an area code (010, 02x, 0[3-9]xx)`];
    return subscriberRefusal(number.slice(area.length), `after area code ${area}`);
  }
  if (number.startsWith('1')) {
    if (GOVERNMENT_LINE.test(number)) return undefined;
    if (INFORMATION_SERVICE.test(number))
      return ['information-service', 'is a premium-rate information-service number (160, 168, 169, 1259x)'];
    if (CARRIER_CODE.test(number))
      return ['carrier-code', 'is a carrier access or carrier-selection code (10xxx, 179xx)'];
    if (number.length !== 11) return ['unknown-shape', `is not a number we may call (${SHAPES})`];
    if (SATELLITE.test(number))
      return ['satellite', 'is a satellite phone number (174, 1349, 1619), billed far above a mobile'];
    if (IOT_ONLY.test(number))
      return ['iot-only', 'is in an IoT-only range (140–144, 146, 148, 172), not a mobile range for calls'];
    if (!MOBILE_NETWORKS.has(number.slice(0, 3)))
      return ['not-mobile-range', `is not a mobile range: ${number.slice(0, 3)} is not allocated to a mobile network`];
    return undefined;
  }
  if (SERVICE_NUMBER.test(number))
    return ['service-number', 'is a 95xxx/96xxx service number, which may be a charged information service'];
  return subscriberRefusal(number, 'as a local number');
}

/** A landline's subscriber number: 7 or 8 digits, not starting with 0 or 1, not a service block. */
function subscriberRefusal(subscriber: string, where: string): [RefusalReason, string] | undefined {
  if (INFORMATION_SERVICE.test(subscriber))
    return [
      'information-service',
      `is a premium-rate information-service number (${subscriber.slice(0, 3)}… ${where})`,
    ];
  if (SERVICE_NUMBER.test(subscriber))
    return ['service-number', `is a 95xxx/96xxx service number ${where}, which may be a charged information service`];
  if (!/^[2-9]\d{6,7}$/.test(subscriber)) {
    return [
      'not-landline',
      `is not a landline: ${where} a subscriber number has 7 or 8 digits and does not start with 0 or 1`,
    ];
  }
  return undefined;
}

function fail(err: RexianError): never {
  throw err;
}
