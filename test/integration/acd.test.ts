// The ACD on real Asterisk with SIPp agents and citizens: who is served first, by whom, what
// happens when an agent lets it ring, overflow before the target, abandons, callbacks that
// keep the caller's place, and a controller restart that loses nobody's place.
import t, { type Test } from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { openEventStream } from '../helpers/events.js';
import { dbRows, sleep, streamEntries, until } from '../helpers/lab.js';
import { runSipp, startLine } from '../helpers/sipp.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('acd', 7, [
    { id: 'a1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500 },
    { id: 'a2', skills: { general: 5 }, scenario: 'agent-answers.xml' },
    { id: 'a3', skills: { general: 9 }, scenario: 'agent-answers.xml' },
    { id: 'n1', skills: { general: 9 }, scenario: 'agent-never-answers.xml' },
    { id: 'b1', skills: { backup: 5 }, scenario: 'agent-answers.xml' },
    { id: 'cb1', skills: { cbskill: 5 }, scenario: 'agent-answers.xml' },
    { id: 'aa1', skills: { general: 1 }, scenario: 'none', autoAnswer: true },
    { id: 'w1', skills: { general: 1 }, scenario: 'none', device: 'webrtc' },
    { id: 'sv1', skills: { svskill: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1000 },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function agent(
  t: Test,
  id: string,
  action: 'login' | 'ready' | 'logout' | 'not-ready',
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await controller.api(
    'POST',
    `/api/agents/${id}/${action}`,
    body ?? (action === 'login' ? {} : undefined),
  );
  t.equal(res.status, 200, `${id} ${action}`, { body: res.body });
  return res.body;
}

async function agentState(id: string): Promise<Record<string, unknown>> {
  return (await controller.api('GET', `/api/agents/${id}`)).body;
}

async function resetAgents(t: Test): Promise<void> {
  for (const id of ['a1', 'a2', 'a3', 'n1', 'b1', 'cb1', 'aa1', 'sv1']) {
    await until(
      `${id} free`,
      async () => !['reserved', 'on-call'].includes((await agentState(id)).state as string),
      20_000,
    );
    const s = (await agentState(id)).state;
    if (s !== 'logged-out') await agent(t, id, 'logout').catch(() => undefined);
    if ((await agentState(id)).state === 'wrap-up') {
      await controller.api('POST', `/api/agents/${id}/end-wrap-up`);
      await agent(t, id, 'logout');
    }
  }
}

function connected(since: number): LogLine[] {
  return controller.logs.slice(since).filter((l) => l.event === LogEvent.callConnectedToAgent);
}

async function waiting(queue: string): Promise<string[]> {
  return acdLab.lab.redis.zrange(`${acdLab.lab.prefix}:queue:${queue}:waiting`, 0, -1);
}

t.test('callers are served by priority, then in order of arrival, and wrap-up is respected', async (t) => {
  await resetAgents(t);
  await agent(t, 'a1', 'login');
  const from = controller.logs.length;
  const early = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000001' });
  await early.log(LogEvent.callQueued);
  const later = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000002' });
  await later.log(LogEvent.callQueued);
  const urgent = citizen(acdLab.lab, controller, { did: '7002', caller: '13800000003' });
  await urgent.log(LogEvent.callQueued);
  t.same(
    await waiting('general'),
    [(await urgent.entered).callId, (await early.entered).callId, (await later.entered).callId],
    'the waiting list holds priority, then arrival',
  );

  await agent(t, 'a1', 'ready'); // a1 talks 1.5 s per call and hangs up, then 2 s wrap-up
  const order = await until(
    'three calls served',
    () => {
      const c = connected(from);
      return c.length >= 3 ? c : undefined;
    },
    40_000,
  );
  const callers = await Promise.all([urgent, early, later].map(async (c) => (await c.entered).callId));
  t.same(
    order.slice(0, 3).map((l) => l.callId),
    callers,
    'priority 5 first, then first come first served',
  );
  t.ok(order.every((l) => l.agentId === 'a1'));

  const since = controller.logs.slice(from);
  const ended = since.filter((l) => l.event === LogEvent.wrapUpEnded && l.agentId === 'a1');
  const hungUp = since.filter((l) => l.event === LogEvent.agentHungUp);
  const offered = since.filter((l) => l.event === LogEvent.callOffered && l.agentId === 'a1');
  t.ok(hungUp.length >= 2 && ended.length >= 2 && offered.length >= 3, 'each call was followed by wrap-up');
  for (let i = 1; i < 3; i++) {
    const gap = offered[i]!.time - hungUp[i - 1]!.time;
    t.ok(gap >= 1900, `no call offered during wrap-up (next offer ${gap} ms after the hang-up; wrap-up is 2 s)`);
    // From the end of wrap-up to the offer is the ACD's own doing (the agent's phone answering
    // after that is not): routed at once, not at the next periodic sweep.
    const routed = offered[i]!.time - ended[i - 1]!.time;
    t.ok(routed >= 0 && routed < 1000, `the next call was offered as soon as wrap-up ended (${routed} ms)`);
  }
  for (const c of [early, later, urgent])
    t.equal((await c.sipp.done).exitCode, 0, 'each citizen was answered and hung up on normally');
});

t.test('the best-skilled agent serves first, and among equals the one idle longest', async (t) => {
  await resetAgents(t);
  for (const id of ['a2', 'a3']) await agent(t, id, 'login');
  await agent(t, 'a2', 'ready');
  await sleep(300);
  await agent(t, 'a3', 'ready');
  const from = controller.logs.length;
  const first = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000011', hangUpAfterMs: 6000 });
  t.equal(
    (await first.log(LogEvent.callConnectedToAgent)).agentId,
    'a3',
    'level 9 beats level 5 even though a2 was idle longer',
  );
  const second = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000012', hangUpAfterMs: 3000 });
  t.equal((await second.log(LogEvent.callConnectedToAgent)).agentId, 'a2');
  await Promise.all([first.sipp.done, second.sipp.done]);
  t.equal(connected(from).length, 2);
});

t.test(
  'an agent who lets it ring is skipped: the next agent rings within a second, and the first is set not ready',
  async (t) => {
    await resetAgents(t);
    for (const id of ['n1', 'a2']) {
      await agent(t, id, 'login');
      await agent(t, id, 'ready');
    }
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000021', hangUpAfterMs: 9000 });
    const offered = await c.log(LogEvent.callOffered);
    t.equal(offered.agentId, 'n1', 'the better-skilled agent is offered first');
    const noAnswer = await c.log(LogEvent.agentNoAnswer, 15_000);
    t.ok(noAnswer.time - offered.time >= 3500, `rang for the queue's ring time (${noAnswer.time - offered.time} ms)`);
    const next = await c.log(LogEvent.callOffered, 5_000, (l) => l.agentId === 'a2');
    t.ok(next.time - noAnswer.time < 1000, `next agent offered ${next.time - noAnswer.time} ms later`);
    await c.log(LogEvent.callConnectedToAgent);
    t.match(await agentState('n1'), { state: 'not-ready', reason: 'no-answer', reasonLabel: '未接听' });
    await c.sipp.done;
  },
);

t.test('overflow widens to backup agents before the answer target is missed', async (t) => {
  await resetAgents(t);
  await agent(t, 'b1', 'login');
  await agent(t, 'b1', 'ready');
  const c = citizen(acdLab.lab, controller, { did: '7003', caller: '13800000031', hangUpAfterMs: 8000 });
  const queued = await c.log(LogEvent.callQueued);
  t.equal(queued.queue, 'special');
  const conn = await c.log(LogEvent.callConnectedToAgent, 15_000);
  t.equal(conn.agentId, 'b1', 'an agent with the overflow skill took it');
  t.ok((conn.waitMs as number) >= 2900, `not before the overflow time (${conn.waitMs} ms)`);
  t.ok((conn.waitMs as number) < 5000, `well before the 10 s target (${conn.waitMs} ms)`);
  await c.sipp.done;
});

t.test('abandons are counted, short abandons apart', async (t) => {
  await resetAgents(t);
  await agent(t, 'a2', 'login'); // logged in, not ready: callers wait
  const before = (
    await controller.api<{ abandoned: number; shortAbandoned: number; offered: number }>('GET', '/api/queues/general')
  ).body;
  const quick = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000041', hangUpAfterMs: 1000 });
  const patient = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000042', hangUpAfterMs: 4500 });
  await quick.log(LogEvent.callAbandoned, 20_000, (l) => l.short === true);
  await patient.log(LogEvent.callAbandoned, 20_000, (l) => l.short === false);
  const after = (
    await controller.api<{
      abandoned: number;
      shortAbandoned: number;
      offered: number;
      serviceLevel: Array<{ seconds: number }>;
      formula: string;
    }>('GET', '/api/queues/general')
  ).body;
  t.equal(after.offered - before.offered, 2);
  t.equal(after.abandoned - before.abandoned, 2);
  t.equal(after.shortAbandoned - before.shortAbandoned, 1, 'only the 1 s hang-up is a short abandon (threshold 3 s)');
  t.match(after.formula, /answered within T ÷ \(answered \+ abandoned − short abandons\)/);
  t.same(await waiting('general'), [], 'nobody left waiting');
});

t.test('a caller who chooses a callback keeps their place and is called back before later callers', async (t) => {
  await resetAgents(t);
  await agent(t, 'cb1', 'login');
  // The first announcement (after 1 s) offers the callback; the caller presses 1 at ~4 s.
  const x = citizen(acdLab.lab, controller, {
    did: '7004',
    caller: '13900000051',
    steps: [{ pauseMs: 4000 }, { key: '1' }],
  });
  await x.log(LogEvent.callbackChosen, 20_000);
  t.equal((await x.sipp.done).exitCode, 0, 'the caller heard the confirmation and was hung up on');
  const y = citizen(acdLab.lab, controller, { did: '7004', caller: '13900000052', hangUpAfterMs: 20_000 });
  await y.log(LogEvent.callQueued);
  const { callId: xId } = await x.entered;
  t.same((await waiting('cbq'))[0], xId, 'the callback entry is still first in line');

  const from = controller.logs.length;
  // The citizen's own phone, reached through the carrier trunk: answers, talks 1 s, hangs up.
  const callbackPhone = runSipp({
    scenario: 'agent-answers-then-hangs-up.xml',
    localPort: acdLab.lab.ports.sipp + 9,
    mediaPort: acdLab.lab.ports.sippMedia + 90,
    timeoutSec: 60,
    extraArgs: ['-d', '1000'],
  });
  await agent(t, 'cb1', 'ready');
  const ringing = await controller.waitForEvent(LogEvent.queueCallbackRinging, undefined, 15_000, from);
  t.equal(ringing.originCallId, xId, 'the agent is rung for the callback, not for the later caller');
  await controller.waitForEvent(LogEvent.queueCallbackConnected, undefined, 20_000, from);
  const leg = await callbackPhone.done;
  const invite = leg.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.match(startLine(invite?.text ?? ''), /^INVITE sip:13900000051@/, "the citizen's number was dialled");
  t.match(invite?.text ?? '', /From:[^\n]*7004/, 'showing the hotline number they called');
  t.same(await waiting('cbq'), [(await y.entered).callId], 'the later caller still waits');
  await y.sipp.done;
});

t.test('after a controller crash, waiting callers keep their places and are served in order', async (t) => {
  await resetAgents(t);
  await agent(t, 'a2', 'login');
  const p = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000061', hangUpAfterMs: 15_000 });
  await p.log(LogEvent.callQueued);
  const q = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000062', hangUpAfterMs: 15_000 });
  await q.log(LogEvent.callQueued);
  const before = await waiting('general');
  await controller.kill('SIGKILL');
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  const { callId: pId } = await p.entered;
  await controller.waitForEvent(LogEvent.queuePlaceKept, (l) => l.callId === pId, 15_000);
  t.same(await waiting('general'), before, 'same callers, same order');
  const r = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000063', hangUpAfterMs: 12_000 });
  await r.log(LogEvent.callQueued);
  t.same(
    await waiting('general'),
    [...before, (await r.entered).callId],
    'a caller arriving after the restart queues behind them',
  );
  await agent(t, 'a2', 'ready');
  const conn = await controller.waitForEvent(LogEvent.callConnectedToAgent, undefined, 15_000);
  t.equal(conn.callId, (await p.entered).callId, 'the caller who came first is served first');
  await Promise.all([p.sipp.done, q.sipp.done, r.sipp.done]);
});

t.test('an agent set to auto-answer is asked to by the INVITE itself', async (t) => {
  await resetAgents(t);
  const phone = runSipp({
    scenario: 'agent-answers-then-hangs-up.xml',
    localPort: acdLab.lab.ports.sipp + 6,
    mediaPort: acdLab.lab.ports.sippMedia + 80,
    timeoutSec: 60,
    extraArgs: ['-d', '500'],
  });
  await agent(t, 'aa1', 'login', { ready: true });
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000071' });
  const seen = await phone.done;
  const invite = seen.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.match(invite?.text ?? '', /Call-Info:[^\n]*answer-after=0/, 'Call-Info: answer-after=0 on the INVITE');
  t.equal((await c.sipp.done).exitCode, 0);
});

t.test('a browser agent gets a WebRTC endpoint, reachable over the WebSocket transport', async (t) => {
  const endpoint = await acdLab.lab.asterisk.command('pjsip show endpoint agent-w1');
  t.match(endpoint, /webrtc\s*:\s*yes/i);
  t.match(endpoint, /dtls_auto_generate_cert\s*:\s*yes/i);
  t.match(endpoint, /media_encryption\s*:\s*dtls/i);
  t.match(await acdLab.lab.asterisk.command('pjsip show transports'), /transport-ws\s+ws/);
});

const openStream = (headers: Record<string, string>) => openEventStream(acdLab.lab.ports.controller, headers);

t.test(
  'the event stream: token and origin checked at the handshake; figures every second and screen pops',
  async (t) => {
    t.equal((await openStream({})).status, 401, 'no token, no stream');
    t.equal(
      (
        await openStream({
          authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}`,
          origin: 'https://evil.example',
        })
      ).status,
      403,
      'a page on another site is refused',
    );
    const stream = await openStream({ authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}` });
    t.teardown(() => stream.ws?.close());
    const figures = (await until(
      'queue figures pushed',
      () => stream.messages.find((m) => m.type === 'queue.figures'),
      5_000,
    )) as {
      queues: Array<{ queue: string; serviceLevel: unknown[] }>;
      overall: { serviceLevel: unknown[]; agents: Record<string, number> };
    };
    t.ok(
      figures.queues.some((q) => q.queue === 'general' && q.serviceLevel.length === 2),
      'every queue with its service level per target',
    );
    t.ok(
      figures.overall.serviceLevel.length >= 2 && typeof figures.overall.agents === 'object',
      'and the whole hotline at once',
    );
    await resetAgents(t);
    await agent(t, 'a2', 'login', { ready: true });
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000081', hangUpAfterMs: 3000 });
    const offer = await until(
      'screen pop',
      () => stream.messages.find((m) => m.type === 'agent.offer' && m.caller === '13800000081'),
      15_000,
    );
    t.match(offer, { agentId: 'a2', did: '7001', queue: 'general', callback: false });
    await c.sipp.done;
  },
);

t.test('an agent added through the API can register at once; removed, it cannot', async (t) => {
  const put = await controller.api<{ sipUsername: string; sipPassword: string; state: string }>(
    'PUT',
    '/api/agents/dyn1',
    { name: '新坐席', skills: { general: 3 } },
  );
  t.equal(put.status, 200, 'added');
  t.match(put.body, { sipUsername: 'agent-dyn1', state: 'logged-out' });
  const register = (password: string) =>
    runSipp({
      scenario: 'agent-registers.xml',
      remote: `127.0.0.1:${acdLab.lab.ports.sip}`,
      service: 'agent-dyn1',
      localPort: acdLab.lab.ports.sipp + 7,
      mediaPort: acdLab.lab.ports.sippMedia + 96,
      timeoutSec: 10,
      extraArgs: ['-au', 'agent-dyn1', '-ap', password],
    }).done;
  t.equal((await register(put.body.sipPassword)).exitCode, 0, 'registered with the password the API gave');
  t.not((await register('wrong-password')).exitCode, 0, 'a wrong password is refused');
  t.match(
    await acdLab.lab.asterisk.command('pjsip show aor agent-dyn1'),
    /contact\s*:\s*agent-dyn1\/sip:agent-dyn1@127\.0\.0\.1/i,
  );
  t.equal(
    (await controller.api('PUT', '/api/agents/a1', { name: 'x', skills: { general: 1 } })).status,
    409,
    'a roster-file agent cannot be changed through the API',
  );
  t.equal(
    (await controller.api('PUT', '/api/agents/dyn2', { name: 'x', skills: { general: 100 } })).status,
    400,
    'a bad skill level is refused',
  );
  await agent(t, 'dyn1', 'login');
  t.equal((await controller.api('DELETE', '/api/agents/dyn1')).status, 204, 'removed');
  t.equal((await controller.api('GET', '/api/agents/dyn1')).status, 404);
  t.not((await register(put.body.sipPassword)).exitCode, 0, 'its phone can no longer register');
});

t.test(
  'when the agent hangs up first, the citizen is asked for their satisfaction and the answer is kept',
  async (t) => {
    await resetAgents(t);
    await agent(t, 'sv1', 'login', { ready: true }); // talks 1 s, then hangs up
    const c = citizen(acdLab.lab, controller, {
      did: '7005',
      caller: '13800000091',
      steps: [{ pauseMs: 3000 }, { key: '1' }],
    });
    await c.log(LogEvent.afterCallFlowStarted, 20_000, (l) => l.flowId === 'survey');
    const ended = await c.log(LogEvent.flowEnded, 40_000);
    t.equal(ended.flowId, 'survey');
    t.equal((ended.vars as Record<string, string>).survey, 'satisfied', '1 满意 was recorded');
    t.match(
      ended.previousFlows,
      [{ flowId: 'acd', outcome: { type: 'queue', queue: 'svq' } }],
      'with the flow that queued the call',
    );
    t.equal((await c.sipp.done).exitCode, 0, 'thanked and hung up on');
    const answers = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:surveys`);
    t.match(
      answers.find((a) => a.callId === ended.callId),
      { agentId: 'sv1', queue: 'svq', did: '7005', answer: 'satisfied', flowId: 'survey' },
      'kept with the call and the agent',
    );
  },
);

t.test("a caller past the flow's maximum wait, or turned away by a full queue, goes where the flow says", async (t) => {
  await resetAgents(t);
  await agent(t, 'a2', 'login'); // logged in, not ready: nobody answers
  const impatient = citizen(acdLab.lab, controller, { did: '7006', caller: '13800000101' });
  const queued = await impatient.log(LogEvent.callQueued);
  const left = await impatient.log(LogEvent.leftQueue, 10_000);
  t.equal(left.result, 'timeout');
  t.ok(
    left.time - queued.time >= 4900 && left.time - queued.time < 6500,
    `left after the flow's 5 s (${left.time - queued.time} ms)`,
  );
  t.equal((await impatient.sipp.done).exitCode, 0, 'then the flow said goodbye and hung up');

  const first = citizen(acdLab.lab, controller, { did: '7007', caller: '13800000102', hangUpAfterMs: 8000 });
  await first.log(LogEvent.callQueued);
  const second = citizen(acdLab.lab, controller, { did: '7007', caller: '13800000103' });
  const full = await second.log(LogEvent.queueRefused);
  t.match(String(full.why), /queue is full/, 'because the queue is full');
  t.equal(
    (await second.sipp.done).exitCode,
    0,
    'the second caller was told goodbye instead of waiting in a full queue',
  );
  t.same(await waiting('tiny'), [(await first.entered).callId], 'the first caller kept their place');
  const figures = (await controller.api<{ leftQueue: number }>('GET', '/api/queues/tiny')).body;
  t.equal(figures.leftQueue, 1, 'counted as left, not as abandoned');
  await first.sipp.done;
});

t.test(
  'every kind of call leaves its record: abandons, a callback both ways, a survey, a caller who waited too long',
  async (t) => {
    const rows = await until(
      'records written',
      async () => {
        const r = await dbRows<Record<string, unknown>>(
          acdLab.lab.env.DATABASE_URL!,
          'SELECT * FROM call_records ORDER BY started_at',
        );
        return r.some((x) => x.caller === '13800000101') && r.filter((x) => x.caller === '13900000051').length >= 2
          ? r
          : undefined;
      },
      20_000,
    );
    const of = (caller: string) => rows.filter((r) => r.caller === caller);
    t.match(
      of('13800000041'),
      [{ direction: 'inbound', queue: 'general', answered: false, abandoned: true, short_abandon: true }],
      'a short abandon',
    );
    t.match(of('13800000042'), [{ abandoned: true, short_abandon: false }], 'an abandon');
    t.ok(Number(of('13800000042')[0]!.wait_ms) >= 3000, 'with its wait');
    t.match(
      of('13900000051').find((r) => r.direction === 'inbound'),
      { queue: 'cbq', answered: false, abandoned: false },
      'the call that asked for a callback',
    );
    t.match(
      of('13900000051').find((r) => r.direction === 'outbound'),
      { answered: true, agent_id: 'cb1' },
      'and the callback, outbound',
    );
    t.match(
      of('13800000091'),
      [{ answered: true, agent_id: 'sv1', survey: 'satisfied', hangup_side: 'agent' }],
      'the survey answer with the agent',
    );
    t.match(
      of('13800000101'),
      [{ answered: false, abandoned: false, flow_id: 'acd' }],
      "a caller who left after the flow's maximum wait",
    );
  },
);
