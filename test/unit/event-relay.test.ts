// The relay of agents' call events between controllers (src/events/relay.ts), against real
// Redis: an offer made on controller A reaches a page on controller B once, A's own pages hear
// it once (directly, not again from the stream), only agent call events travel, and a relay
// that stopped tells nothing more.
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import t from 'tap';

import type { RexianEvent } from '../../src/events/catalogue.js';
import { EventNotifier } from '../../src/events/notifier.js';
import { EventRelay } from '../../src/events/relay.js';
import { deleteKeys, sleep, until } from '../helpers/lab.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

function controller(prefix: string, id: string) {
  const notifier = new EventNotifier();
  const heard: RexianEvent[] = [];
  notifier.subscribe((e) => heard.push(e));
  const relay = new EventRelay({
    redis,
    prefix,
    controllerId: id,
    notifier,
    logger: pino({ level: 'silent' }),
    blockMs: 200,
  });
  return { notifier, heard, relay };
}

/** Two controllers' notifiers and relays on one Redis prefix, both tailing the stream's end. */
async function twoControllers(t: { teardown(fn: () => unknown): void }) {
  const prefix = `rexian-test:relay:${randomBytes(4).toString('hex')}`;
  const a = controller(prefix, 'ctl-a');
  const b = controller(prefix, 'ctl-b');
  a.relay.start();
  b.relay.start();
  t.teardown(async () => {
    await a.relay.stop();
    await b.relay.stop(); // a second stop does nothing
    await deleteKeys(redis, prefix);
  });
  await sleep(300); // both tails have read the stream's end
  return { a, b };
}

const offer: Parameters<EventNotifier['agentOffer']>[0] = {
  agentId: 'a1',
  callId: 'c1',
  queue: 'general',
  line: '12345',
  did: '12345',
  caller: '138****0001',
  callerMasked: true,
  privacy: false,
  ivrPath: ['main'],
  digits: {},
  waitSeconds: 3,
};

t.test("an agent's call events reach every controller's pages once", async (t) => {
  const { a, b } = await twoControllers(t);

  a.notifier.agentOffer(offer);
  a.notifier.agentCall('a1', 'c1', 'talking');
  a.notifier.alertCleared('al-1', 'sl', new Date().toISOString()); // not an agent call event: stays on A
  t.equal(a.heard.length, 3, "A's pages hear A's events at once");
  await until('B told both', () => b.heard.length >= 2, 5_000);
  t.same(
    b.heard.map((e) => e.type),
    ['agent.offer', 'agent.call'],
    'B hears the offer and the call state, in order, and not the alert (its own feed carries it)',
  );
  t.match(b.heard[0], { type: 'agent.offer', agentId: 'a1', callId: 'c1', queue: 'general' });
  await sleep(500);
  t.equal(a.heard.length, 3, 'A does not hear its own events again from the stream');
  t.equal(b.heard.length, 2, 'B hears each once, and does not send them round again');
  t.equal(await redis.xlen(a.relay.key), 2, 'only what B had to hear was appended');

  b.notifier.agentEmergency('a2', 'c9', '120', new Date().toISOString());
  await until('A told B’s emergency', () => a.heard.some((e) => e.type === 'agent.emergency'), 5_000);
  t.equal(b.relay.told, 2);
  t.equal(a.relay.told, 1);
});

t.test('a stopped relay sends and tells nothing', async (t) => {
  const { a, b } = await twoControllers(t);
  await b.relay.stop();
  a.notifier.agentOffer(offer);
  await sleep(600);
  t.equal(b.heard.length, 0, 'B stopped: not told');
  b.notifier.agentOffer(offer);
  await sleep(600);
  t.equal(a.heard.length, 1, "A hears only its own offer: B's was never appended");
  t.equal(await redis.xlen(a.relay.key), 1);
});
