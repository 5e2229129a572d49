// Two Asterisks, each with its own controller, one Redis and one set of agents: the way a
// province puts several cities' switches on one platform. No call is offered to two agents,
// no agent gets two calls, and callers are offered in order of arrival across both.
import { randomBytes } from 'node:crypto';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, type LabAgent, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { sleep, streamEntries, until } from '../helpers/lab.js';

const agents: LabAgent[] = [
  { id: 'x1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500 },
  { id: 'x2', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500 },
  { id: 'x3', skills: { special: 5 }, scenario: 'agent-answers.xml' },
];
let labA: AcdLab;
let labB: AcdLab;
let ctlA: ControllerProcess;
let ctlB: ControllerProcess;

t.before(async () => {
  const prefix = `rexian-test:two-a:${randomBytes(4).toString('hex')}`; // cleared with lab two-a's leftovers
  labA = await startAcdLab('two-a', 8, agents, { prefix });
  labB = await startAcdLab('two-b', 9, agents, { prefix, phonesOfSlot: 8 });
  labB.lab.env.REXIAN_ADMIN_TOKEN = labA.lab.env.REXIAN_ADMIN_TOKEN!; // one platform, one set of tokens
  ctlA = new ControllerProcess(labA.lab.env, labA.lab.ports.controller).start();
  ctlB = new ControllerProcess(labB.lab.env, labB.lab.ports.controller).start();
  await Promise.all([ctlA.waitReady(), ctlB.waitReady()]);
});

t.teardown(async () => {
  await ctlA?.kill('SIGKILL');
  await ctlB?.kill('SIGKILL');
  await labA?.close();
  await labB?.close();
});

t.test('two controllers on one Redis never double-offer and keep arrival order across both', async (t) => {
  for (const id of ['x1', 'x2']) t.equal((await ctlA.api('POST', `/api/agents/${id}/login`, {})).status, 200);
  const calls = [];
  for (let i = 0; i < 6; i++) {
    const [lab, ctl] = i % 2 === 0 ? [labA.lab, ctlA] : [labB.lab, ctlB];
    const c = citizen(lab, ctl, { did: '7001', caller: `1370000000${i}` });
    await c.log(LogEvent.callQueued);
    calls.push(c);
    await sleep(150);
  }
  const arrival = await Promise.all(calls.map(async (c) => (await c.entered).callId as string));
  // Both agents become ready through different controllers.
  t.equal((await ctlA.api('POST', '/api/agents/x1/ready')).status, 200);
  t.equal((await ctlB.api('POST', '/api/agents/x2/ready')).status, 200);

  const offers = (): LogLine[] =>
    [...ctlA.logs, ...ctlB.logs].filter((l) => l.event === LogEvent.callOffered).sort((a, b) => a.time - b.time);
  await until('six calls offered', () => offers().length >= 6, 60_000);
  for (const c of calls) t.equal((await c.sipp.done).exitCode, 0, 'every citizen was answered and hung up on normally');

  const offered = offers();
  // The order is the router's: it reserves in one atomic step and writes the reservation to the
  // agent-events stream in that step. The "offered" log lines come from two processes, and a call
  // reserved on one controller for a call on the other switch is logged a hop later, so two
  // reservations a millisecond apart can log in either order.
  const reservations = (await streamEntries(labA.lab.redis, `${labA.lab.prefix}:agent-events`))
    .filter((e) => e.state === 'reserved' && arrival.includes(String(e.call)))
    .map((e) => e.call);
  t.same(reservations, arrival, 'reserved in order of arrival, whichever switch the caller came in on');
  t.equal(new Set(offered.map((l) => l.callId)).size, 6, 'no call offered twice');
  const byController = (ctl: ControllerProcess, lab: AcdLab) =>
    ctl.logs
      .filter((l) => l.event === LogEvent.callOffered)
      .every((l) => String(l.callId).startsWith(`test-${lab.lab.name}-`));
  t.ok(
    byController(ctlA, labA) && byController(ctlB, labB),
    'each controller offered only the calls on its own switch',
  );

  // The kept state log: between two offers to the same agent, the agent was free again.
  const events = await streamEntries(labA.lab.redis, `${labA.lab.prefix}:agent-events`);
  for (const id of ['x1', 'x2']) {
    const states = events.filter((e) => e.agent === id).map((e) => e.state);
    let busy = false;
    let double = false;
    for (const s of states) {
      if (s === 'reserved') {
        if (busy) double = true;
        busy = true;
      }
      if (s === 'ready' || s === 'not-ready' || s === 'logged-out') busy = false;
    }
    t.notOk(double, `${id} was never offered a call while busy (${states.join(' → ')})`);
    t.ok(states.filter((s) => s === 'reserved').length >= 2, `${id} took calls`);
  }
});

t.test(
  "any controller acts on any call: actions are forwarded to the one that holds it; a restart of one leaves the other's calls alone",
  async (t) => {
    t.equal((await ctlA.api('POST', '/api/agents/x3/login', { ready: true })).status, 200);
    // The citizen comes in on switch B; the agent's desktop talks to controller A.
    const c = citizen(labB.lab, ctlB, { did: '7003', caller: '13700000031' });
    const { callId } = await c.log(LogEvent.callConnectedToAgent, 30_000, (l) => l.agentId === 'x3');
    const listed = await ctlA.api<{
      calls: Array<{ callId: string; agentId: string | null; controller: string | null }>;
    }>('GET', '/api/calls');
    t.match(
      listed.body.calls.find((x) => x.callId === callId),
      { agentId: 'x3' },
      'controller A lists the call switch B carries',
    );

    const hold = await ctlA.api('POST', '/api/agents/x3/call/hold');
    t.equal(hold.status, 200, 'hold through controller A');
    t.match(hold.body, { callId, held: true });
    await c.log(LogEvent.citizenHeld, 5_000);
    // The log line travels on A's stdout, which the test may read after the HTTP answer: wait for it.
    const forwarded = await ctlA
      .waitForEvent(LogEvent.requestForwarded, (l) => l.status === 200, 5_000)
      .catch(() => null);
    t.ok(forwarded, 'A forwarded it to B');

    // Controller A restarts: it reconciles with switch A only, and B's call is untouched.
    await ctlA.kill('SIGKILL');
    ctlA = new ControllerProcess(labA.lab.env, labA.lab.ports.controller).start();
    await ctlA.waitReady();
    await sleep(500);
    t.notOk(
      ctlA.logs.some((l) => l.event === LogEvent.callClosedOut && l.callId === callId),
      "A does not close out B's call",
    );
    t.notOk(
      ctlA.logs.some((l) => l.event === LogEvent.callsLostAsteriskRestarted),
      "nor think B's switch is its own, restarted",
    );
    t.equal(
      (await ctlA.api('POST', '/api/agents/x3/call/resume')).status,
      200,
      'the restarted A still reaches the call through B',
    );
    await c.log(LogEvent.citizenResumed, 5_000);
    t.equal((await ctlA.api('POST', '/api/agents/x3/call/hangup')).status, 200);
    t.equal((await c.sipp.done).exitCode, 0, 'the call ends normally');
  },
);
