// Service-level alerts against the real controller, Asterisk and SIPp: an agent logged in but
// not ready while a citizen waits fires "callers waiting, no agent ready" within its rule's
// window; the alert is on a supervisor's stream and not on the agent's; a loopback receiver gets
// the webhook once, signed; acknowledging is audited; the alert clears when the agent takes the
// call. A broken rules file is refused at start with file:line:col, and on SIGHUP the last good
// rules keep running.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type EventStream, openEventStream } from '../helpers/events.js';
import { sleep, streamEntries, until } from '../helpers/lab.js';

const tokens = { supervisor: 'supervisor-a-token-0123456789', agent: 'agent-h1-token-0123456789' };
const secret = 'alerts-webhook-secret-0123';
let acdLab: AcdLab;
let controller: ControllerProcess;
let receiver: Server;
let rulesFile: string;
const hooks: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
const redis = new Redis('redis://127.0.0.1:6379');

const rules = (url: string): string => `rules:
  nobody-ready:
    kind: waiting-no-agent-ready
    queue: general
    severity: critical
    for: 2
    webhook: ${url}
`;

t.before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  acdLab = await startAcdLab('alerts', 77, [
    { id: 'h1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500, team: 'a' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 周班长, role: supervisor, teams: [a], token: ${tokens.supervisor} }
    - { name: 王芳, role: agent, agent: h1, token: ${tokens.agent} }
`,
  );
  rulesFile = join(acdLab.dir, 'alerts.yaml');
  writeFileSync(rulesFile, rules(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`));
  Object.assign(acdLab.lab.env, {
    REXIAN_CONFIG: config,
    REXIAN_ALERTS: rulesFile,
    REXIAN_ALERTS_WEBHOOK_SECRET: secret,
  });
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  redis.disconnect();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function as(
  token: string,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${controller.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const alertsOn = (stream: EventStream) => stream.messages.filter((m) => String(m.type).startsWith('alert.'));
const hooksFor = (alertId: string, type: string) =>
  hooks.filter((h) => {
    const body = JSON.parse(h.body) as { type: string; alert: { alertId: string } };
    return body.type === type && body.alert.alertId === alertId;
  });

t.test('a broken rules file at start is refused with file:line:col', async (t) => {
  const broken = join(acdLab.dir, 'broken-alerts.yaml');
  writeFileSync(broken, 'rules:\n  late:\n    kind: longest-wait\n    severity: warning\n    minutes: 3\n');
  const refused = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start({ REXIAN_ALERTS: broken });
  t.not(await refused.exited(30_000), 0, 'the controller does not start');
  t.match(refused.stderr.join('\n'), `${broken}:5:5: rule "late" (longest-wait) does not take "minutes"`);
  t.match(refused.stderr.join('\n'), `${broken}:2:3: rule "late" (longest-wait) needs "aboveSeconds"`);
});

t.test(
  'agents not ready while a caller waits: the alert fires within its window, for supervisors not agents, ' +
    'the webhook once and signed; the ack is audited; it clears when the agent takes the call',
  async (t) => {
    controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
    await controller.waitReady();
    const supervisor = await openEventStream(acdLab.lab.ports.controller, {
      authorization: `Bearer ${tokens.supervisor}`,
    });
    const agent = await openEventStream(acdLab.lab.ports.controller, { authorization: `Bearer ${tokens.agent}` });
    t.teardown(() => {
      supervisor.close();
      agent.close();
    });
    t.equal((await controller.api('POST', '/api/agents/h1/login', {})).status, 200, 'h1 logged in, not ready');

    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000771' });
    const waiting = await c.log(LogEvent.callQueued);
    const enteredAt = waiting.time;
    const fired = await until('alert.fired on the supervisor stream', () =>
      alertsOn(supervisor).find((m) => m.type === 'alert.fired'),
    );
    t.match(fired, {
      type: 'alert.fired',
      rule: 'nobody-ready',
      kind: 'waiting-no-agent-ready',
      severity: 'critical',
      queue: 'general',
      value: 1,
      threshold: 0,
      message: { 'zh-CN': /综合.*1 位来电在等待/, en: /1 callers waiting/ },
    });
    t.notOk('agentId' in fired, 'no agentId: not routed to an agent');
    const firedAfter = Date.parse(String(fired.firedAt)) - enteredAt;
    t.ok(firedAfter >= 2_000 && firedAfter <= 5_000, `fired ${firedAfter} ms after the caller queued (for: 2 s)`);
    const alertId = String(fired.alertId);

    // The webhook: once, signed over the raw body.
    await until('the webhook', () => hooksFor(alertId, 'alert.fired').length > 0, 10_000);
    await sleep(3_000); // more seconds of the same condition: no re-fire, no second delivery
    const [hook] = hooksFor(alertId, 'alert.fired');
    t.equal(hooksFor(alertId, 'alert.fired').length, 1, 'delivered once');
    t.equal(
      hook!.headers['x-rexian-signature'],
      `sha256=${createHmac('sha256', secret).update(hook!.body).digest('hex')}`,
      'signed with HMAC-SHA256 of the raw body',
    );
    t.match(JSON.parse(hook!.body), {
      type: 'alert.fired',
      alert: { alertId, rule: 'nobody-ready', queue: 'general' },
    });
    t.equal(alertsOn(supervisor).filter((m) => m.type === 'alert.fired').length, 1, 'told once on the stream');
    t.same(alertsOn(agent), [], "nothing of it on the agent's stream");

    // The list, and who may see it.
    const list = await as(tokens.supervisor, 'GET', '/api/alerts');
    t.equal(list.status, 200);
    t.match(list.body, { active: [{ alertId, rule: 'nobody-ready' }] });
    t.equal((await as(tokens.agent, 'GET', '/api/alerts')).status, 403, 'agents may not read alerts');
    t.equal((await as(tokens.agent, 'POST', `/api/alerts/${alertId}/ack`)).status, 403, 'nor acknowledge them');

    // Acknowledged: told, audited with who and when; a second ack changes nothing.
    const ack = await as(tokens.supervisor, 'POST', `/api/alerts/${alertId}/ack`);
    t.equal(ack.status, 200);
    t.match(ack.body, { alert: { alertId, acknowledgedBy: '周班长' }, alreadyAcknowledged: false });
    const told = await until('alert.acknowledged', () =>
      alertsOn(supervisor).find((m) => m.type === 'alert.acknowledged'),
    );
    t.match(told, { alertId, rule: 'nobody-ready', by: '周班长' });
    t.match((await as(tokens.supervisor, 'POST', `/api/alerts/${alertId}/ack`)).body, { alreadyAcknowledged: true });
    const audit = await streamEntries(redis, `${acdLab.lab.prefix}:audit:alerts`);
    t.equal(audit.length, 1, 'one audit entry');
    t.match(audit[0], { event: 'acknowledged', alertId, rule: 'nobody-ready', by: '周班长', role: 'supervisor' });
    t.ok(Date.parse(audit[0]!.at!) > 0, 'with when');
    t.equal((await as(tokens.supervisor, 'POST', '/api/alerts/al-0123/ack')).status, 404, 'no such alert');

    // The agent takes the call: the condition ends, the alert clears.
    t.equal((await controller.api('POST', '/api/agents/h1/ready')).status, 200);
    const cleared = await until(
      'alert.cleared',
      () => alertsOn(supervisor).find((m) => m.type === 'alert.cleared'),
      15_000,
    );
    t.match(cleared, { alertId, rule: 'nobody-ready' });
    await until('the cleared webhook', () => hooksFor(alertId, 'alert.cleared').length === 1, 10_000);
    const after = await as(tokens.supervisor, 'GET', '/api/alerts');
    t.same((after.body as { active: unknown[] }).active, []);
    t.match((after.body as { recent: unknown[] }).recent[0], { alertId, acknowledgedBy: '周班长', clearedAt: String });
    await c.sipp.done;

    const recent = await as(tokens.supervisor, 'GET', '/api/alerts/figures?minutes=30');
    t.equal(recent.status, 200);
    t.match(recent.body, { minutes: 30, queues: [{ queue: 'general' }], overall: { serviceLevel: [{ seconds: 10 }] } });
  },
);

t.test('on SIGHUP a broken rules file is refused with file:line:col and the last good rules keep firing', async (t) => {
  const supervisor = await openEventStream(acdLab.lab.ports.controller, {
    authorization: `Bearer ${tokens.supervisor}`,
  });
  t.teardown(() => supervisor.close());
  writeFileSync(rulesFile, 'rules:\n  nobody-ready:\n    kind: waiting-no-agent-ready\n    severity: urgent\n');
  const from = controller.logs.length;
  (controller as unknown as { child: { kill(s: string): void } }).child.kill('SIGHUP');
  const rejected = await controller.waitForEvent(LogEvent.alertRulesRejected, undefined, 10_000, from);
  t.match(String(rejected.err), `${rulesFile}:4:5: "rules.nobody-ready.severity" must be one of warning, critical`);

  await until('h1 back from the last call', async () => {
    const state = (await controller.api<{ state: string }>('GET', '/api/agents/h1')).body.state;
    if (state === 'wrap-up') await controller.api('POST', '/api/agents/h1/end-wrap-up');
    return state === 'ready' || state === 'not-ready';
  });
  t.equal((await controller.api('POST', '/api/agents/h1/not-ready', { reason: 'break' })).status, 200);
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000772' });
  const fired = await until('the old rule fires again', () =>
    alertsOn(supervisor).find((m) => m.type === 'alert.fired'),
  );
  t.match(fired, { rule: 'nobody-ready', severity: 'critical' }, 'the last good rule, severity critical');
  await until('its webhook', () => hooksFor(String(fired.alertId), 'alert.fired').length === 1, 10_000);
  t.equal((await controller.api('POST', '/api/agents/h1/ready')).status, 200);
  await until('cleared', () => alertsOn(supervisor).find((m) => m.type === 'alert.cleared'), 15_000);
  await c.sipp.done;

  // A good edit is taken on the next SIGHUP.
  writeFileSync(
    rulesFile,
    `${rules('http://127.0.0.1:9/none')}  slow:\n    kind: longest-wait\n    aboveSeconds: 60\n    severity: warning\n`,
  );
  const before = controller.logs.length;
  (controller as unknown as { child: { kill(s: string): void } }).child.kill('SIGHUP');
  const reloaded = await controller.waitForEvent(LogEvent.alertRulesReloaded, undefined, 10_000, before);
  t.equal(reloaded.rules, 2, 'the new rules run');
});
