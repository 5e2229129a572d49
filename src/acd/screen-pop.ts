// What an agent's screen shows when a call is offered: the line and the number dialled, the
// way the caller came through the IVR and what they keyed in, how long they waited, and the
// caller's number, or only its masked form when the queue's policy or the caller says so.
import { askedForPrivacy, maskNumber } from '../calls/privacy.js';

/** The hotline and the legacy lines merged into it (国务院办公厅 2020 年 53 号文). */
const LINES: Record<string, string> = {
  '12345': '12345 政务服务便民热线',
  '12315': '12315 市场监管投诉举报',
  '12329': '12329 住房公积金',
  '12333': '12333 人力资源和社会保障',
  '12366': '12366 纳税服务',
  '12348': '12348 公共法律服务',
};

export function lineName(did: string): string {
  return LINES[did] ?? did;
}

/** What the IVR learned, handed to the ACD when the caller is queued. */
export interface IvrSummary {
  flowId?: string;
  path: string[];
  /** Digits and values the flow collected (collect nodes, lookups, set nodes). */
  vars: Record<string, string>;
}

// The masking rules are the calls domain's (one decision for every surface): re-exported here
// for the screen pop's readers.
export { askedForPrivacy, maskNumber } from '../calls/privacy.js';

export interface ScreenPop {
  line: string;
  did: string;
  /** The caller's number as policy allows the agent to see it. */
  caller: string;
  callerMasked: boolean;
  privacy: boolean;
  ivrPath: string[];
  digits: Record<string, string>;
  waitSeconds: number;
}

export function screenPop(input: {
  did: string;
  caller: string;
  ivr?: IvrSummary;
  waitMs: number;
  policy: 'full' | 'masked';
}): ScreenPop {
  const privacy = askedForPrivacy(input.ivr?.vars);
  const masked = privacy || input.policy === 'masked';
  return {
    line: lineName(input.did),
    did: input.did,
    caller: masked ? maskNumber(input.caller) : input.caller,
    callerMasked: masked,
    privacy,
    ivrPath: input.ivr?.path ?? [],
    digits: input.ivr?.vars ?? {},
    waitSeconds: Math.round(input.waitMs / 100) / 10,
  };
}
