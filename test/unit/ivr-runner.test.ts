// The IVR runner as the last member of the event path, against an in-memory call port: a
// citizen's call answers and plays the flow's first prompt, a key in the menu queues the
// caller, events the ACD consumes never reach the flow, the divert prompt hands the caller to
// 12345, and the ACD hands calls back through the runner's CallHandoffs.
import t, { type Test } from 'tap';

import type { QueueRequest } from '../../src/acd/call-state.js';
import type { AriEvent } from '../../src/asterisk/ari.js';
import type { Call } from '../../src/calls/call.js';
import { type CallEventHandler, CallEventPath } from '../../src/calls/event-path.js';
import { CallService, type LostState } from '../../src/calls/service.js';
import { LogEvent } from '../../src/events/log-events.js';
import type { FlowRef } from '../../src/ivr/interpreter.js';
import { IvrRunner } from '../../src/ivr/runner.js';
import type { SurveyAnswer } from '../../src/ivr/surveys.js';
import { channel, FakeAri, MemoryCallStore, memoryLogger, settle } from '../helpers/call-port.js';
import { refOf, testCalendar } from '../helpers/flows.js';

const main = refOf(`id: main
start: greet
nodes:
  greet: { type: play, prompt: welcome, next: menu }
  menu:
    type: menu
    prompt: menu
    options: { "1": enterprise }
    timeout: 4
    retries: 0
    noInput: { next: bye }
    invalid: { next: bye }
  enterprise: { type: queue, queue: enterprise, priority: 2, onTimeout: bye }
  bye: { type: play, prompt: bye, next: end }
  end: { type: hangup }
`);

const survey = refOf(`id: survey
start: ask
nodes:
  ask:
    type: survey
    prompt: survey
    answers: { "1": satisfied, "2": unsatisfied }
    next: end
  end: { type: hangup }
`);

const nobody: CallEventHandler = { onEvent: async () => false };

/** A calls domain and an IVR runner on a fake port; the ACD is a fake that records what it is asked. */
async function runnerLab(t: Test, options: { acdConsumes?: (event: AriEvent) => boolean } = {}) {
  const ari = new FakeAri();
  const store = new MemoryCallStore();
  store.startup = ari.startup;
  const { logger, lines } = memoryLogger();
  const calls = new CallService({ ari: ari.client, store, logger, controllerId: 'ctl-test' });
  const flows = new Map([main, survey].map((ref): [string, FlowRef] => [ref.id, ref]));
  const numbers: Record<string, string> = { '12345': 'main' };
  const enqueued: QueueRequest[] = [];
  const acdAsked: string[] = [];
  const surveys: SurveyAnswer[] = [];
  const acd = {
    enqueue: async (_call: Call, request: QueueRequest) => void enqueued.push(request),
    resume: async (call: Call) => void acdAsked.push(`resume ${call.id}`),
    recover: async (_lost: LostState) => new Set<string>(),
    onEnd: async (call: Call) => void acdAsked.push(`end ${call.id}`),
    onEvent: async (_call: Call, event: AriEvent) => {
      acdAsked.push(event.type);
      return options.acdConsumes?.(event) ?? false;
    },
  };
  const runner = new IvrRunner({
    registry: {
      forNumber: (did) => flows.get(numbers[did] ?? ''),
      current: (id) => flows.get(id),
      version: async (id, version) => (flows.get(id)?.version === version ? flows.get(id) : undefined),
      calendar: testCalendar,
    },
    prompts: { resolve: async (ref) => (typeof ref === 'string' ? `rexian/${ref}` : 'rexian/tts') },
    acd,
    callbacks: { add: async () => 'task-1' },
    surveys: { add: async (answer) => (surveys.push(answer), 'answer-1') },
    logger,
  });
  calls.route(
    runner,
    new CallEventPath({ masking: nobody, supervision: nobody, divert: runner.divert, acd, ivr: runner }, runner),
  );
  t.teardown(() => calls.stopTimers());
  ari.connect();
  await settle(calls);
  /** A citizen calls 12345 and the runner has done what the first node asks. */
  const dial = async (id = 'c1'): Promise<Call> => {
    ari.enter(channel(id), ['inbound', '12345']);
    await settle(calls);
    return calls.get(id)!;
  };
  /** The prompt the runner started last has ended. */
  const promptEnds = async (call: Call): Promise<void> => {
    ari.playbackFinished(String(call.flow.playbackId), call.channelId);
    await settle(calls);
  };
  const played = () => ari.ops('channels.play').map((r) => r.args[2]);
  return { ari, store, calls, runner, lines, enqueued, acdAsked, surveys, dial, promptEnds, played };
}

t.test("a citizen's call answers and plays the first prompt of its number's flow", async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  t.same(
    l.ari.ops('channels.answer', 'channels.play').map((r) => r.op),
    ['channels.answer', 'channels.play'],
    'answered, then the prompt',
  );
  t.same(l.played(), ['sound:rexian/welcome']);
  t.match(call.flow.ivr, { flowId: 'main', node: 'greet', waiting: 'prompt' });
  t.equal(call.flow.playbackId, 'c1-p1', 'the playback has our id, saved before it was asked for');
  t.equal((await l.store.load('c1'))?.flow.playbackId, 'c1-p1', 'and the saved call has it');
});

t.test('a key pressed in the menu sends the caller to the queue it names', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  await l.promptEnds(call); // welcome
  t.same(l.played(), ['sound:rexian/welcome', 'sound:rexian/menu']);
  await l.promptEnds(call); // menu: now waiting for a key
  l.ari.dtmf('c1', '1');
  await settle(l.calls);
  t.same(
    l.enqueued.map((r) => [r.queue, r.priority]),
    [['enterprise', 2]],
  );
  t.same(call.flow.ivr?.path, ['greet', 'menu', 'enterprise']);
  t.equal(call.flow.ivr?.waiting, 'queue');
});

t.test('an event the ACD consumes does not reach the flow', async (t) => {
  const l = await runnerLab(t, { acdConsumes: (event) => event.type === 'ChannelDtmfReceived' });
  const call = await l.dial();
  await l.promptEnds(call);
  await l.promptEnds(call);
  l.ari.dtmf('c1', '1');
  await settle(l.calls);
  t.ok(l.acdAsked.includes('ChannelDtmfReceived'), 'the ACD was asked');
  t.same(l.enqueued, [], 'the menu never saw the key');
  t.equal(call.flow.ivr?.node, 'menu');
});

t.test('a prompt that is not the current one ending does not move the flow', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  l.ari.playbackFinished('c1-p0', 'c1');
  await settle(l.calls);
  t.equal(call.flow.ivr?.node, 'greet');
  t.same(l.played(), ['sound:rexian/welcome']);
});

t.test('when the divert prompt ends the caller goes on to the 12345 flow, and the ACD is not asked', async (t) => {
  const l = await runnerLab(t);
  l.ari.enter(channel('c2', { exten: '95000' }), ['inbound', '95000']); // no flow answers 95000
  await settle(l.calls);
  const call = l.calls.get('c2')!;
  await l.runner.toHotline(call, { text: '您拨打的号码不为您提供服务。' });
  t.equal(call.flow.divert, 'c2-divert');
  l.acdAsked.length = 0;
  l.ari.playbackFinished('c2-divert', 'c2');
  await settle(l.calls);
  t.same(l.acdAsked, [], 'the divert member consumed the event before the ACD');
  t.equal(call.flow.divert, undefined);
  t.match(call.flow.ivr, { flowId: 'main', node: 'greet' }, 'the 12345 flow started');
  t.equal(l.played().at(-1), 'sound:rexian/welcome');
});

t.test('a caller who leaves the queue unserved goes on in the flow from the queue node', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  await l.promptEnds(call);
  await l.promptEnds(call);
  l.ari.dtmf('c1', '1');
  await settle(l.calls);
  await l.calls.within('c1', (c) => l.calls.handoffs.queueExit(c, 'timeout'));
  t.same(call.flow.ivr?.path, ['greet', 'menu', 'enterprise', 'bye']);
  t.equal(l.played().at(-1), 'sound:rexian/bye');
  t.ok(
    call.state.events?.some((e) => e.type === 'flow-continues' && e.result === 'timeout'),
    "the call's timeline says why",
  );
});

t.test('a caller with no flow state who leaves the queue goes to the dialplan fallback', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  await call.updateFlow({ ivr: undefined }); // as rebuilt after Redis lost its data
  await l.runner.queueExit(call, 'noAgents');
  t.same(
    l.ari.ops('channels.continueInDialplan').map((r) => r.args),
    [['c1', 'rexian-fallback', '12345']],
  );
});

t.test('an agent who hangs up hands the caller to the after-call flow, the first flow kept', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  t.equal(await l.runner.agentLeft(call, 'no-such-flow'), false, 'a flow that is not loaded: false, nothing done');
  t.equal(call.flow.previousFlows, undefined);
  t.equal(await l.calls.handoffs.agentLeft(call, 'survey'), true);
  t.match(call.flow.ivr, { flowId: 'survey', node: 'ask' });
  t.same(
    call.flow.previousFlows?.map((f) => f.flowId),
    ['main'],
    'the flow that brought the caller is kept for the record',
  );
  t.equal(l.played().at(-1), 'sound:rexian/survey');
});

t.test("the flow's summary is logged at the call's end, after the ACD has released it", async (t) => {
  const l = await runnerLab(t);
  await l.dial();
  l.ari.hangUp('c1');
  await settle(l.calls);
  t.same(l.acdAsked, ['end c1'], 'the ACD released the call once; it saw none of its own end events');
  const ended = l.lines.find((line) => line.event === LogEvent.flowEnded);
  t.match(ended, { callId: 'c1', flowId: 'main', path: ['greet'] });
});

t.test('a call resumed while its prompt still plays waits for the end of that prompt', async (t) => {
  const l = await runnerLab(t);
  const call = await l.dial();
  const before = l.played().length;
  await l.runner.resume(call); // as after a controller restart: c1-p1 is still playing
  t.equal(l.played().length, before, 'nothing played again');
  await l.promptEnds(call);
  t.equal(call.flow.ivr?.node, 'menu', 'its end moves the flow on');
});
