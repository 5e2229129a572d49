// Walks a flow without Asterisk: prompts end at once, keys come from a list when the flow
// waits for input (an empty list means the caller stays silent), HTTP lookups are made for
// real (or fail, offline). Shows ops where a call would end before a citizen makes it.
import type { Calendar } from './calendar.js';
import {
  advance,
  type FlowRef,
  type IvrAction,
  type IvrEvent,
  type IvrState,
  type Outcome,
  startFlow,
} from './interpreter.js';

export interface SimulationInput {
  flow: FlowRef;
  flows: (id: string) => FlowRef | undefined;
  calendar: Calendar;
  did: string;
  caller: string;
  at: Date;
  dtmf: string;
  /** Make http nodes' requests for real (default), or treat them all as failed. */
  http?: 'real' | 'fail';
}

export interface SimulationResult {
  path: string[];
  outcome: Outcome | { type: 'stuck'; reason: string };
  vars: Record<string, string>;
  flowVersion: string;
}

const MAX_EVENTS = 500;

export async function simulate(input: SimulationInput): Promise<SimulationResult> {
  const context = {
    did: input.did,
    caller: input.caller,
    now: () => input.at,
    calendar: input.calendar,
    flow: input.flows,
  };
  let ref = input.flow;
  let step = startFlow(ref, context);
  const keys = [...input.dtmf];
  const pending: IvrEvent[] = [];
  let state: IvrState = step.state;
  for (let n = 0; n < MAX_EVENTS; n++) {
    pending.push(...step.actions.flatMap((a) => reaction(a, keys)));
    const httpAction = step.actions.find((a): a is Extract<IvrAction, { type: 'http' }> => a.type === 'http');
    if (httpAction) pending.push(await httpReaction(httpAction, input.http ?? 'real'));
    state = step.state;
    if (state.waiting === 'done' || (state.waiting === 'queue' && pending.length === 0)) {
      return {
        path: state.path,
        outcome: state.outcome ?? { type: 'hangup' },
        vars: state.vars,
        flowVersion: input.flow.version,
      };
    }
    const event = pending.shift();
    if (!event)
      return {
        path: state.path,
        outcome: { type: 'stuck', reason: `waiting for ${state.waiting} at "${state.node}"` },
        vars: state.vars,
        flowVersion: input.flow.version,
      };
    ref = input.flows(state.flowId) ?? ref;
    step = advance(ref, state, event, context);
  }
  return {
    path: state.path,
    outcome: { type: 'stuck', reason: `more than ${MAX_EVENTS} steps` },
    vars: state.vars,
    flowVersion: input.flow.version,
  };
}

function reaction(action: IvrAction, keys: string[]): IvrEvent[] {
  switch (action.type) {
    case 'play': {
      // A caller who knows what to press does so while a skippable prompt plays.
      if (action.bargeIn && keys.length > 0) return [{ type: 'dtmf', digit: keys.shift()! }];
      return [{ type: 'playbackFinished' }];
    }
    case 'waitForInput':
      return keys.length > 0 ? [{ type: 'dtmf', digit: keys.shift()! }] : [{ type: 'timeout' }];
    case 'record':
      return [{ type: 'recordingFinished', recording: 'simulated-recording' }];
    default:
      return [];
  }
}

async function httpReaction(action: Extract<IvrAction, { type: 'http' }>, mode: 'real' | 'fail'): Promise<IvrEvent> {
  if (mode === 'fail') return { type: 'httpResult', ok: false, error: 'offline simulation' };
  return performHttp(action);
}

/** One lookup for an http node: never longer than its timeout, never throws. */
export async function performHttp(
  action: Extract<IvrAction, { type: 'http' }>,
): Promise<Extract<IvrEvent, { type: 'httpResult' }>> {
  try {
    const response = await fetch(action.url, {
      method: action.method,
      headers: action.body ? { 'content-type': 'application/json' } : undefined,
      body: action.body ? JSON.stringify(action.body) : undefined,
      signal: AbortSignal.timeout(action.timeoutMs),
    });
    if (!response.ok) return { type: 'httpResult', ok: false, error: `status ${response.status}` };
    const text = await response.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      /* plain text answer */
    }
    return { type: 'httpResult', ok: true, data };
  } catch (err) {
    const e = err as Error;
    return {
      type: 'httpResult',
      ok: false,
      error: e.name === 'TimeoutError' ? `timeout after ${action.timeoutMs} ms` : e.message,
    };
  }
}
