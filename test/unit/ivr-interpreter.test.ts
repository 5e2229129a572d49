import t from 'tap';

import {
  advance,
  type FlowRef,
  type IvrContext,
  type IvrEvent,
  startFlow,
  type Step,
} from '../../src/ivr/interpreter.js';
import { contextFor, refOf } from '../helpers/flows.js';

const menuFlow = refOf(`id: main
start: greet
nodes:
  greet: { type: play, prompt: welcome, bargeIn: true, next: menu }
  menu:
    type: menu
    prompt: menu
    options: { "1": enterprise, "2": talent }
    timeout: 4
    retries: 1
    noInput: { next: general }
    invalid: { prompt: sorry, next: general }
  enterprise: { type: queue, queue: enterprise, priority: 2, onTimeout: general }
  talent: { type: queue, queue: talent }
  general: { type: queue, queue: general }
`);

/** Runs a sequence of events, returning every step. */
function run(ref: FlowRef, events: IvrEvent[], context: IvrContext = contextFor([ref])): Step[] {
  const steps = [startFlow(ref, context)];
  for (const e of events) steps.push(advance(ref, steps[steps.length - 1]!.state, e, context));
  return steps;
}
const last = (steps: Step[]) => steps[steps.length - 1]!;
const done = { type: 'playbackFinished' } as const;
const key = (digit: string) => ({ type: 'dtmf', digit }) as const;

t.test('a key pressed after the menu prompt picks the option', async (t) => {
  const steps = run(menuFlow, [done, done, key('1')]);
  t.same(steps[0]!.actions, [{ type: 'play', prompts: ['welcome'], bargeIn: true }]);
  t.same(steps[2]!.actions, [{ type: 'waitForInput', seconds: 4 }], 'the timer starts when the prompt ends');
  t.same(last(steps).actions, [{ type: 'queue', queue: 'enterprise', skills: [], priority: 2, maxWait: undefined }]);
  t.same(last(steps).state.path, ['greet', 'menu', 'enterprise']);
});

t.test('a key during the menu prompt stops it and is taken at once', async (t) => {
  const steps = run(menuFlow, [done, key('2')]);
  t.same(
    last(steps).actions.map((a) => a.type),
    ['stopPlayback', 'queue'],
  );
  t.equal(last(steps).state.outcome?.type, 'queue');
});

t.test('a key during a skippable greeting skips it and answers the menu (type-ahead)', async (t) => {
  const steps = run(menuFlow, [key('2')]);
  t.same(
    last(steps).actions.map((a) => a.type),
    ['stopPlayback', 'queue'],
  );
  t.same(last(steps).state.path, ['greet', 'menu', 'talent']);
});

t.test('an invalid key explains and replays the menu, then gives up to the invalid target', async (t) => {
  const steps = run(menuFlow, [done, done, key('7')]);
  t.same(steps[3]!.actions, [{ type: 'play', prompts: ['sorry', 'menu'], bargeIn: true }]);
  const giveUp = run(menuFlow, [done, done, key('7'), done, key('8')]);
  t.same(
    last(giveUp).actions.map((a) => a.type),
    ['play'],
    'the apology plays before leaving',
  );
  const after = advance(menuFlow, last(giveUp).state, done, contextFor([menuFlow]));
  t.same(after.state.outcome, { type: 'queue', queue: 'general', skills: [], priority: 0 });
  t.same(after.state.path, ['greet', 'menu', 'menu', 'general']);
});

t.test('no input replays the menu, then goes to the no-input target', async (t) => {
  const steps = run(menuFlow, [done, done, { type: 'timeout' }]);
  t.same(steps[3]!.actions, [{ type: 'play', prompts: ['menu'], bargeIn: true }]);
  const steps2 = run(menuFlow, [done, done, { type: 'timeout' }, done, { type: 'timeout' }]);
  t.equal(last(steps2).state.outcome?.type, 'queue');
  t.match(last(steps2).state.outcome, { queue: 'general' });
});

t.test('events that do not fit the state are ignored', async (t) => {
  const steps = run(menuFlow, [{ type: 'timeout' }, { type: 'httpResult', ok: true }]);
  t.same(last(steps).actions, []);
  t.equal(last(steps).state.node, 'greet');
});

t.test('a queue timeout continues to onTimeout', async (t) => {
  const steps = run(menuFlow, [done, done, key('1'), { type: 'queueResult', result: 'timeout' }]);
  t.match(last(steps).state.outcome, { type: 'queue', queue: 'general' });
});

const collectFlow = refOf(`id: c
start: code
nodes:
  code:
    type: collect
    prompt: menu
    var: creditCode
    minLength: 18
    maxLength: 18
    pattern: "[0-9]{17}[0-9X]"
    starAs: X
    terminator: "#"
    timeout: 5
    retries: 1
    next: ok
    noInput: { next: fail }
    invalid: { prompt: sorry, next: fail }
  ok: { type: queue, queue: enterprise }
  fail: { type: queue, queue: general }
`);

t.test('collect: 18 characters with * as X complete on their own and are stored', async (t) => {
  const digits = [...'91350100M00010043'.replace('M', '0')].map(key);
  const steps = run(collectFlow, [done, ...digits, key('*')]);
  t.equal(last(steps).state.vars.creditCode, '91350100000010043X');
  t.match(last(steps).state.outcome, { queue: 'enterprise' });
});

t.test('collect: too short a code ended with # is invalid and offered again', async (t) => {
  const steps = run(collectFlow, [done, key('1'), key('2'), key('#')]);
  t.same(last(steps).actions, [{ type: 'play', prompts: ['sorry', 'menu'], bargeIn: true }]);
  t.equal(last(steps).state.vars.creditCode, undefined);
  t.equal(last(steps).state.digits, '', 'the wrong digits are forgotten');
});

t.test('collect: an inter-digit timeout ends the input', async (t) => {
  const short = refOf(`id: s
start: n
nodes:
  n: { type: collect, prompt: menu, var: ticket, maxLength: 10, minLength: 3, next: ok, noInput: { next: ok }, invalid: { next: ok } }
  ok: { type: hangup }
`);
  const steps = run(short, [done, key('4'), key('5'), key('6'), { type: 'timeout' }]);
  t.equal(last(steps).state.vars.ticket, '456');
});

t.test('branch, set and templates', async (t) => {
  const flow = refOf(`id: b
start: s
nodes:
  s: { type: set, vars: { line: "\${did}", who: "caller \${caller}" }, next: b }
  b:
    type: branch
    conditions:
      - { when: { caller: { prefix: ["0591"] } }, next: local }
      - { when: { var: { name: line, equals: "12315" } }, next: market }
      - { when: { hours: { schedule: office, is: open } }, next: office }
    otherwise: night
  local: { type: queue, queue: general }
  market: { type: queue, queue: enterprise }
  office: { type: queue, queue: talent }
  night: { type: hangup }
`);
  const at = (iso: string, over = {}) =>
    last(run(flow, [], contextFor([flow], { now: () => new Date(iso), ...over }))).state;
  t.match(at('2026-11-23T10:00:00+08:00', { caller: '059112345' }).outcome, { queue: 'general' });
  t.match(at('2026-11-23T10:00:00+08:00', { did: '12315' }).outcome, { queue: 'enterprise' });
  t.same(at('2026-11-23T10:00:00+08:00', { did: '12315' }).vars, { line: '12315', who: 'caller 13800138000' });
  t.match(at('2026-11-23T10:00:00+08:00').outcome, { queue: 'talent' }, 'Monday 10:00 is office hours');
  t.match(at('2026-11-23T12:30:00+08:00').outcome, { type: 'hangup' }, 'lunch break is not');
  t.match(at('2026-10-02T10:00:00+08:00').outcome, { type: 'hangup' }, 'a holiday is not');
  t.match(at('2026-10-10T10:00:00+08:00').outcome, { queue: 'talent' }, 'an adjusted working Saturday is');
});

t.test('http: an answer assigns variables; an error or timeout takes onError', async (t) => {
  const flow = refOf(`id: h
start: look
nodes:
  look: { type: http, url: "http://crm.local/citizen?n=\${caller}", timeout: 1500, assign: { vip: "data.vip" }, next: vip, onError: plain }
  vip: { type: queue, queue: enterprise }
  plain: { type: queue, queue: general }
`);
  const first = startFlow(flow, contextFor([flow]));
  t.same(first.actions, [
    { type: 'http', url: 'http://crm.local/citizen?n=13800138000', method: 'GET', timeoutMs: 1500, body: undefined },
  ]);
  const ok = advance(
    flow,
    first.state,
    { type: 'httpResult', ok: true, data: { data: { vip: true } } },
    contextFor([flow]),
  );
  t.equal(ok.state.vars.vip, 'true');
  t.match(ok.state.outcome, { queue: 'enterprise' });
  const failed = advance(
    flow,
    first.state,
    { type: 'httpResult', ok: false, error: 'timeout after 1500 ms' },
    contextFor([flow]),
  );
  t.match(failed.state.outcome, { queue: 'general' });
  t.equal(failed.state.vars.httpError, 'timeout after 1500 ms');
});

t.test('voicemail records after its prompt and becomes the outcome', async (t) => {
  const flow = refOf(`id: v
start: vm
nodes:
  vm: { type: voicemail, prompt: welcome, maxSeconds: 60, reason: after-hours, next: bye }
  bye: { type: hangup, prompt: bye }
`);
  const steps = run(flow, [done, { type: 'recordingFinished', recording: 'rec-1' }, done]);
  t.same(steps[1]!.actions, [{ type: 'record', maxSeconds: 60, reason: 'after-hours' }]);
  t.same(last(steps).actions, [{ type: 'hangup' }]);
  t.same(last(steps).state.outcome, { type: 'voicemail', recording: 'rec-1', reason: 'after-hours' });
});

t.test('transfer announces itself, then transfers', async (t) => {
  const flow = refOf(`id: e
start: police
nodes:
  police: { type: transfer, kind: emergency, number: "110", prompt: bye }
`);
  const steps = run(flow, [done]);
  t.same(steps[0]!.actions, [{ type: 'play', prompts: ['bye'], bargeIn: false }]);
  t.same(last(steps).actions, [{ type: 'transfer', kind: 'emergency', number: '110' }]);
  t.equal(last(steps).state.waiting, 'done');
});

t.test('subflow runs another flow and returns to the next node', async (t) => {
  const child = refOf(`id: child
start: ask
nodes:
  ask: { type: set, vars: { visited: "yes" }, next: back }
  back: { type: return }
`);
  const parent = refOf(`id: parent
start: go
nodes:
  go: { type: subflow, flow: child, next: end }
  end: { type: queue, queue: general }
`);
  const step = startFlow(parent, contextFor([parent, child]));
  t.same(step.state.path, ['go', 'child/ask', 'child/back', 'end']);
  t.equal(step.state.flowId, 'parent');
  t.equal(step.state.vars.visited, 'yes');
});

t.test('survey stores the answer and thanks the citizen', async (t) => {
  const flow = refOf(`id: s
start: ask
nodes:
  ask: { type: survey, prompt: menu, answers: { "1": satisfied, "3": dissatisfied }, thanks: bye, next: end }
  end: { type: hangup }
`);
  const steps = run(flow, [done, key('3'), done]);
  t.equal(last(steps).state.vars.survey, 'dissatisfied');
  t.same(last(steps).actions, [{ type: 'hangup' }]);
  const silent = run(flow, [done, { type: 'timeout' }, done, { type: 'timeout' }, done, { type: 'timeout' }]);
  t.equal(last(silent).state.vars.survey, undefined, 'no answer is stored when none was given');
  t.equal(last(silent).state.waiting, 'done');
});

t.test('the state survives JSON (it is what Redis keeps across a crash)', async (t) => {
  const steps = run(menuFlow, [done]);
  const revived = JSON.parse(JSON.stringify(steps[1]!.state));
  const next = advance(menuFlow, revived, key('1'), contextFor([menuFlow]));
  t.match(next.state.outcome, { queue: 'enterprise' });
});
