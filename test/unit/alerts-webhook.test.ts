// Alert webhooks (src/alerts/webhook.ts) against a loopback HTTP receiver: signed with
// HMAC-SHA256 of the raw body, retried with backoff under one delivery id, delivered once to a
// receiver that answers 2xx, given up after the last try, and never waited for.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import t from 'tap';

import { WebhookSender } from '../../src/alerts/webhook.js';
import { until } from '../helpers/lab.js';

const secret = 'webhook-secret-0123456789';

async function receiver(answers: number[]) {
  const got: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = answers[got.length - 1] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=abc`;
  return { got, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const sender = () => new WebhookSender({ secret, logger: pino({ level: 'silent' }), backoffMs: [50, 100, 150, 200] });

t.test('a receiver that answers 2xx gets the alert once, signed over the raw body', async (t) => {
  const r = await receiver([200]);
  t.teardown(r.close);
  const s = sender();
  s.send(r.url, { type: 'alert.fired', alert: { alertId: 'al-1', message: { 'zh-CN': '无人就绪', en: 'none' } } });
  await until('delivered', () => r.got.length === 1 && s.pending === 0, 3_000, 20);
  await new Promise((res) => setTimeout(res, 300));
  t.equal(r.got.length, 1, 'once');
  const [{ headers, body }] = r.got as [{ headers: IncomingHttpHeaders; body: string }];
  t.equal(
    headers['x-rexian-signature'],
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    'HMAC-SHA256 of the body as sent',
  );
  t.match(headers['x-rexian-delivery'], /^[0-9a-f-]{36}$/);
  t.equal(headers['x-rexian-event'], 'alert.fired');
  t.equal(headers['content-type'], 'application/json');
  t.match(JSON.parse(body), { type: 'alert.fired', alert: { alertId: 'al-1', message: { 'zh-CN': '无人就绪' } } });
});

t.test('failures are retried with backoff under the same delivery id, until a 2xx', async (t) => {
  const r = await receiver([500, 503, 204]);
  t.teardown(r.close);
  const s = sender();
  const started = Date.now();
  s.send(r.url, { type: 'alert.cleared' });
  t.equal(r.got.length, 0, 'send returns before anything is delivered');
  await until('third try', () => r.got.length === 3 && s.pending === 0, 3_000, 20);
  t.ok(Date.now() - started >= 150, 'waited 50 ms then 100 ms between tries');
  t.equal(new Set(r.got.map((g) => g.headers['x-rexian-delivery'])).size, 1, 'one delivery id');
  await new Promise((res) => setTimeout(res, 300));
  t.equal(r.got.length, 3, 'nothing after the 2xx');
});

t.test('a receiver that never says yes is tried five times, then given up', async (t) => {
  const r = await receiver([500, 500, 500, 500, 500, 500, 500]);
  t.teardown(r.close);
  const s = sender();
  s.send(r.url, { type: 'alert.fired' });
  await until('given up', () => s.pending === 0 && r.got.length > 0, 5_000, 20);
  t.equal(r.got.length, 5);
});

t.test('without a secret nothing is sent unsigned', async (t) => {
  const r = await receiver([200]);
  t.teardown(r.close);
  const s = new WebhookSender({ logger: pino({ level: 'silent' }) });
  s.send(r.url, { type: 'alert.fired' });
  await new Promise((res) => setTimeout(res, 200));
  t.equal(r.got.length, 0);
  t.equal(s.pending, 0);
});
