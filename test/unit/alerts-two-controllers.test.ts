// Two controllers' alert domains (src/alerts/module.ts) on one real Redis, evaluating the same
// live figures: an alert fires once (one webhook, one event on each controller's stream), clears
// once; a connection alert is about one controller, which alone clears it, or anyone once that
// controller is gone; the minute samples of the recent window are kept once.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import t from 'tap';

import { createAlerts } from '../../src/alerts/module.js';
import { AlertStore } from '../../src/alerts/store.js';
import { Authenticator } from '../../src/api/auth.js';
import type { QueueFigures, RexianEvent } from '../../src/events/catalogue.js';
import { EventNotifier } from '../../src/events/notifier.js';
import { deleteKeys, sleep, until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.disconnect());

t.test('two controllers fire an alert once, clear it once, and each tells it on its own stream', async (t) => {
  const prefix = `rexian-test:alerts-two:${randomBytes(4).toString('hex')}`;
  const hooks: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push(body);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const file = join(scratchDir('alerts-two'), 'alerts.yaml');
  writeFileSync(
    file,
    `webhook: ${url}
rules:
  nobody-ready: { kind: waiting-no-agent-ready, severity: critical, for: 0.3 }
  ari-down: { kind: ari-disconnected, severity: critical }
`,
  );
  const world = {
    waiting: 1,
    ari: new Map([
      ['ctl-a', true],
      ['ctl-b', true],
    ]),
  };
  const figures = async (): Promise<QueueFigures[]> => [
    {
      queue: 'general',
      name: '综合',
      date: '2025-03-01',
      answered: 0,
      abandoned: 0,
      shortAbandoned: 0,
      serviceLevel: [{ seconds: 15, targetPercent: 95, answeredWithin: 0, percent: null, answeredOnlyPercent: null }],
      waitingNow: world.waiting,
      longestWaitNowSeconds: world.waiting * 5,
      agents: { 'not-ready': 1 },
    } as unknown as QueueFigures,
  ];
  const controllers = ['ctl-a', 'ctl-b'].map((id) => {
    const app = Fastify();
    const notifier = new EventNotifier();
    const told: RexianEvent[] = [];
    notifier.subscribe((e) => told.push(e));
    createAlerts({
      app,
      authn: new Authenticator({}),
      redis,
      prefix,
      controllerId: id,
      notifier,
      logger: pino({ level: 'silent' }),
      config: { rules: file, webhookSecret: 'two-controllers-secret' },
      queues: () => new Map([['general', { name: '综合', targets: [{ seconds: 15 }] }]]),
      live: {
        figures,
        agents: async () => [{ id: '1001', state: 'not-ready', reason: 'break', since: new Date().toISOString() }],
        ariConnected: () => world.ari.get(id)!,
        amiConnected: () => true,
        outboxLength: async () => 0,
      },
      everyMs: 100,
    });
    return { id, app, told };
  });
  t.teardown(async () => {
    for (const c of controllers) await c.app.close();
    await new Promise<void>((r) => receiver.close(() => r()));
    await deleteKeys(redis, prefix);
  });
  // Both alive, as the ACD's heartbeat says (src/acd/service.ts).
  for (const c of controllers) await redis.set(`${prefix}:controller:${c.id}`, '1', 'PX', 60_000);
  await Promise.all(controllers.map((c) => c.app.ready()));

  const ofType = (told: RexianEvent[], type: string) => told.filter((e) => e.type === type);
  const hooksOf = (type: string) => hooks.filter((h) => (JSON.parse(h) as { type: string }).type === type);
  await until('fired on both streams', () => controllers.every((c) => ofType(c.told, 'alert.fired').length > 0));
  await until('the webhook', () => hooksOf('alert.fired').length > 0);
  await sleep(800);
  for (const c of controllers) t.equal(ofType(c.told, 'alert.fired').length, 1, `${c.id} told it once`);
  t.equal(hooksOf('alert.fired').length, 1, 'one webhook for two controllers');
  t.equal((await redis.hlen(`${prefix}:alerts:active`)) as number, 1, 'one active alert');

  world.waiting = 0;
  await until('cleared on both', () => controllers.every((c) => ofType(c.told, 'alert.cleared').length > 0));
  await until('the cleared webhook', () => hooksOf('alert.cleared').length > 0);
  await sleep(800);
  for (const c of controllers) t.equal(ofType(c.told, 'alert.cleared').length, 1, `${c.id} told the clear once`);
  t.equal(hooksOf('alert.cleared').length, 1, 'one clear webhook');

  // Controller A loses ARI: the alert names A; B, whose ARI is fine, leaves it alone.
  world.ari.set('ctl-a', false);
  const ari = await until('the ARI alert', () =>
    ofType(controllers[1]!.told, 'alert.fired').find((e) => (e as { rule: string }).rule === 'ari-down'),
  );
  t.match(ari, { controller: 'ctl-a', severity: 'critical' });
  await sleep(1_000);
  t.equal(ofType(controllers[1]!.told, 'alert.cleared').length, 1, 'B does not clear what is about A');
  // A is gone (its heartbeat key expires, it evaluates no more): B clears the alert about it.
  await controllers[0]!.app.close();
  await redis.del(`${prefix}:controller:ctl-a`);
  await until('B clears the dead controller’s alert', () => ofType(controllers[1]!.told, 'alert.cleared').length === 2);
  t.equal((await redis.hlen(`${prefix}:alerts:active`)) as number, 0);
});

t.test("a minute's counters are kept once, by the first controller, and old minutes are forgotten", async (t) => {
  const prefix = `rexian-test:alerts-samples:${randomBytes(4).toString('hex')}`;
  t.teardown(() => deleteKeys(redis, prefix));
  const a = new AlertStore(redis, prefix);
  const b = new AlertStore(redis, prefix);
  await a.saveSample(1000, [{ queue: 'general', answered: 1 }], 800);
  await b.saveSample(1000, [{ queue: 'general', answered: 999 }], 800);
  await b.saveSample(1001, [{ queue: 'general', answered: 2 }], 800);
  t.same(await a.samples(), [
    { minute: 1000, counters: [{ queue: 'general', answered: 1 }] },
    { minute: 1001, counters: [{ queue: 'general', answered: 2 }] },
  ]);
  await a.saveSample(1300, [], 1001);
  t.same(
    (await b.samples()).map((s) => s.minute),
    [1001, 1300],
  );
});
