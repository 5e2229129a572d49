// The calls domain against an in-memory call port: calls begin from StasisStart and from
// reconcile, one call's events run one at a time, they go along the event path in its named
// order, and a call's end reaches every domain once whatever one of them does.
import t, { type Test } from 'tap';

import type { AriEvent } from '../../src/asterisk/ari.js';
import type { Call, CallRecordState } from '../../src/calls/call.js';
import {
  CALL_DOMAIN_ORDER,
  type CallDomainName,
  type CallEventHandler,
  CallEventPath,
} from '../../src/calls/event-path.js';
import { type CallFlow, CallService, type EndReason } from '../../src/calls/service.js';
import { channel, FakeAri, MemoryCallStore, memoryLogger, settle } from '../helpers/call-port.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LabOptions {
  domains?: Partial<Record<CallDomainName, CallEventHandler>>;
  flow?: Partial<CallFlow>;
}

/** A calls domain on a fake port, with a flow and a path whose members record what they see. */
function lab(t: Test, options: LabOptions = {}) {
  const ari = new FakeAri();
  const store = new MemoryCallStore();
  const { logger, lines } = memoryLogger();
  const records: Array<{ state: CallRecordState; reason: EndReason }> = [];
  const calls = new CallService({
    ari: ari.client,
    store,
    logger,
    controllerId: 'ctl-test',
    onEnded: async (state, reason) => void records.push({ state: structuredClone(state), reason }),
  });
  const seen: string[] = [];
  const flow: CallFlow = {
    start: async (call) => void seen.push(`start ${call.id}`),
    resume: async (call) => void seen.push(`resume ${call.id}`),
    ...options.flow,
  };
  const member = (name: CallDomainName): CallEventHandler =>
    options.domains?.[name] ?? {
      onEvent: async (_call, event) => {
        seen.push(`${name} ${event.type}`);
        return false;
      },
      onEnd: async () => void seen.push(`${name} end`),
    };
  const domains = Object.fromEntries(CALL_DOMAIN_ORDER.map((name) => [name, member(name)])) as Record<
    CallDomainName,
    CallEventHandler
  >;
  const path = new CallEventPath(domains, {
    queueExit: async () => undefined,
    agentLeft: async () => false,
    toHotline: async () => undefined,
  });
  calls.route(flow, path);
  t.teardown(() => calls.stopTimers());
  return { ari, store, calls, lines, records, seen, path };
}

/** Connects and lets reconcile finish. */
async function connected(l: ReturnType<typeof lab>): Promise<void> {
  l.ari.connect();
  await settle(l.calls);
  if (!l.calls.ready) throw new Error('the calls domain did not become ready');
}

t.test('a StasisStart with inbound arguments begins a call, saves it and starts its flow', async (t) => {
  const l = lab(t);
  await connected(l);
  l.ari.enter(channel('c1', { caller: '13900139000' }), ['inbound', '12345']);
  await settle(l.calls);
  t.same(l.seen, ['start c1'], 'the flow started the call');
  t.equal(l.calls.liveCount, 1);
  const saved = await l.store.load('c1');
  t.match(saved, { callId: 'c1', channelId: 'c1', did: '12345', caller: '13900139000', owner: 'ctl-test' });
  t.equal(saved?.events?.[0]?.type, 'entered', 'the timeline begins with the call entering');
  t.equal(saved?.asteriskStartup, l.ari.startup, 'the call knows which Asterisk run carries it');
});

t.test('a StasisStart whose first argument is not inbound or outbound is no call (a feature code)', async (t) => {
  const l = lab(t);
  await connected(l);
  l.ari.enter(channel('f1', { caller: 'agent-1001' }), ['feature', '*22']);
  l.ari.dtmf('f1', '5');
  await settle(l.calls);
  t.same(l.seen, [], 'no flow started and no domain was asked');
  t.equal(l.calls.liveCount, 0);
  t.same(l.ari.ops('channels.hangup', 'hangupChannel'), [], 'the channel is not hung up');
});

t.test('the events of one call are handled one at a time, in the order they came', async (t) => {
  const order: string[] = [];
  const l = lab(t, {
    domains: {
      ivr: {
        onEvent: async (_call, event) => {
          const digit = String(event.digit);
          order.push(`begin ${digit}`);
          await sleep(digit === '1' ? 40 : 5); // the first is slow: a parallel handler would let the others overtake
          order.push(`end ${digit}`);
          return true;
        },
      },
    },
  });
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  for (const digit of ['1', '2', '3']) l.ari.dtmf('c1', digit);
  await settle(l.calls);
  await sleep(80);
  await settle(l.calls);
  t.same(order, ['begin 1', 'end 1', 'begin 2', 'end 2', 'begin 3', 'end 3']);
});

t.test('the path asks the domains in its named order, and one that consumes an event stops it', async (t) => {
  const l = lab(t, {
    domains: {
      supervision: {
        onEvent: async (_call, event) => {
          l.seen.push(`supervision ${event.type}`);
          return event.type === 'ChannelDtmfReceived'; // takes keys, lets the rest through
        },
      },
    },
  });
  t.same(
    l.path.domains.map((d) => d.name),
    ['masking', 'supervision', 'divert', 'acd', 'ivr'],
    'the order is the named list',
  );
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  l.ari.dtmf('c1', '1');
  l.ari.event({ type: 'ChannelVarset', channel: channel('c1') });
  await settle(l.calls);
  t.same(l.seen, [
    'start c1',
    'masking ChannelDtmfReceived',
    'supervision ChannelDtmfReceived',
    'masking ChannelVarset',
    'supervision ChannelVarset',
    'divert ChannelVarset',
    'acd ChannelVarset',
    'ivr ChannelVarset',
  ]);
});

t.test("an event of a channel that is no call's reaches no domain", async (t) => {
  const l = lab(t);
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  l.ari.dtmf('stranger', '1');
  await settle(l.calls);
  t.same(l.seen, ['start c1']);
});

t.test('a leg attached to a call brings its events to that call, and its answer to the record', async (t) => {
  const l = lab(t);
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  await settle(l.calls);
  const call = l.calls.get('c1')!;
  await l.calls.attachLeg(call, 'c1-a1', { role: 'agent', party: '1001' });
  l.ari.enter(channel('c1-a1', { appArgs: 'agent-leg,c1' }), ['agent-leg', 'c1']);
  await settle(l.calls);
  t.same(
    l.seen.slice(1, 3),
    ['masking StasisStart', 'supervision StasisStart'],
    "the leg's StasisStart went along the path",
  );
  t.ok((await l.store.load('c1'))?.legInfo?.['c1-a1']?.answeredAt, 'the leg answered, and the saved call says when');
});

t.test('a hang-up ends the call once, though Asterisk sends both StasisEnd and ChannelDestroyed', async (t) => {
  const l = lab(t);
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  await settle(l.calls);
  l.ari.hangUp('c1');
  await settle(l.calls);
  t.same(
    l.seen.filter((s) => s.endsWith(' end')),
    ['masking end', 'supervision end', 'divert end', 'acd end', 'ivr end'],
    'every domain released the call once, in the path order',
  );
  t.equal(l.records.length, 1, 'one record');
  t.equal(l.records[0]?.reason, 'hangup');
  t.equal(l.calls.liveCount, 0);
  t.equal(await l.store.load('c1'), undefined, 'the live state is gone');
  t.notOk(
    l.seen.some((s) => s.includes('StasisEnd') || s.includes('ChannelDestroyed')),
    "the citizen's own end is the call's end, not an event for the domains",
  );
});

t.test('a hang-up that comes in the same breath as the StasisStart still ends the call', async (t) => {
  const l = lab(t);
  await connected(l);
  // ws hands over all the frames of one read at once: the StasisEnd comes before begin has run.
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  l.ari.hangUp('c1');
  await settle(l.calls);
  t.same(l.seen[0], 'start c1', 'the call began first');
  t.equal(l.records.length, 1, 'and ended: its record is kept');
  t.equal(l.calls.liveCount, 0, 'nothing is left in memory');
});

t.test("a domain whose clean-up fails stops neither the others nor the call's record", async (t) => {
  const l = lab(t, {
    domains: {
      acd: {
        onEvent: async () => false,
        onEnd: async () => {
          l.seen.push('acd end (fails)');
          throw new Error('Redis refused the waiting list');
        },
      },
    },
  });
  await connected(l);
  l.ari.enter(channel('c1'), ['inbound', '12345']);
  await settle(l.calls);
  l.ari.hangUp('c1');
  await settle(l.calls);
  t.same(
    l.seen.filter((s) => s.includes(' end')),
    ['masking end', 'supervision end', 'divert end', 'acd end (fails)', 'ivr end'],
    'the domain after the failing one still ran',
  );
  t.equal(l.records.length, 1, 'the record is kept');
  t.equal(await l.store.load('c1'), undefined, 'the live state is gone');
  const failure = l.lines.find((line) => line.domain === 'acd' && line.level === 50);
  t.ok(failure, 'the failure is logged with the name of its domain');
  t.equal(failure?.callId, 'c1');
});

t.test('reconcile begins a call found in our Stasis app with no saved state', async (t) => {
  const l = lab(t);
  l.store.startup = l.ari.startup; // the same Asterisk run: Redis lost only this call
  l.ari.live.set('c9', channel('c9', { appArgs: 'inbound,12345', caller: '13700137000' }));
  await connected(l);
  t.same(l.seen, ['start c9'], 'its flow starts again from the top');
  t.match(await l.store.load('c9'), { did: '12345', caller: '13700137000' });
});

t.test('reconcile resumes a saved call still in Asterisk and closes out one that ended while away', async (t) => {
  const l = lab(t);
  l.store.startup = l.ari.startup;
  const saved = (id: string): CallRecordState => ({
    callId: id,
    channelId: id,
    did: '12345',
    caller: '13800138000',
    startedAt: '2026-12-01T02:00:00.000Z',
    asteriskStartup: l.ari.startup,
    flow: {},
  });
  await l.store.save(saved('here'));
  await l.store.save(saved('gone'));
  l.ari.live.set('here', channel('here', { appArgs: 'inbound,12345' }));
  await connected(l);
  t.same(
    l.seen.filter((s) => !s.endsWith(' end')),
    ['resume here'],
    'the live one goes on; nothing starts again',
  );
  t.same(
    l.records.map((r) => [r.state.callId, r.reason]),
    [['gone', 'ended-while-away']],
    'the gone one is recorded',
  );
  t.same(
    l.seen.filter((s) => s.endsWith(' end')),
    ['masking end', 'supervision end', 'divert end', 'acd end', 'ivr end'],
    'the domains released the gone one',
  );
  t.equal(await l.store.load('gone'), undefined);
  t.equal((await l.store.load('here'))?.owner, 'ctl-test', 'the resumed call is now ours');
});

t.test('reconcile leaves a channel in our app that is no call (a feature code) alone', async (t) => {
  const l = lab(t);
  l.store.startup = l.ari.startup;
  l.ari.live.set('f1', channel('f1', { appArgs: 'feature,*22' }));
  await connected(l);
  t.same(l.seen, [], 'nothing begun');
  t.same(l.ari.ops('channels.hangup', 'hangupChannel'), [], 'nothing hung up');
  t.equal(l.calls.liveCount, 0);
});

t.test('events that come while reconcile runs wait for it, then run in order', async (t) => {
  const l = lab(t, {
    flow: {
      resume: async (call: Call) => void l.seen.push(`resume ${call.id}`),
    },
  });
  l.store.startup = l.ari.startup;
  await l.store.save({
    callId: 'c1',
    channelId: 'c1',
    did: '12345',
    caller: '13800138000',
    startedAt: '2026-12-01T02:00:00.000Z',
    asteriskStartup: l.ari.startup,
    flow: {},
  });
  l.ari.live.set('c1', channel('c1', { appArgs: 'inbound,12345' }));
  l.ari.connect();
  const event: AriEvent = { type: 'ChannelDtmfReceived', channel: channel('c1'), digit: '7' };
  l.ari.event(event); // before reconcile has even asked Asterisk what it carries
  await settle(l.calls);
  t.same(l.seen.slice(0, 2), ['resume c1', 'masking ChannelDtmfReceived'], 'resumed first, then its key');
});
