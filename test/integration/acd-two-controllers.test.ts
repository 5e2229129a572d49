// Two Asterisks, each with its own controller, one Redis and one set of agents: the way a
// province puts several cities' switches on one platform. No call is offered to two agents,
// no agent gets two calls, and callers are offered in order of arrival across both.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { citizen, startAcdLab, type AcdLab, type LabAgent } from '../helpers/acd-lab.js';
import { sleep, until } from '../helpers/lab.js';

const agents: LabAgent[] = [
  { id: 'x1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500 },
  { id: 'x2', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 1500 },
];
let labA: AcdLab;
let labB: AcdLab;
let ctlA: ControllerProcess;
let ctlB: ControllerProcess;

t.before(async () => {
  const prefix = `rexian-test:two-a:${randomBytes(4).toString('hex')}`; // cleared with lab two-a's leftovers
  labA = await startAcdLab('two-a', 8, agents, { prefix });
  labB = await startAcdLab('two-b', 9, agents, { prefix, phonesOfSlot: 8 });
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
    await c.log('call queued');
    calls.push(c);
    await sleep(150);
  }
  const arrival = await Promise.all(calls.map(async (c) => (await c.entered).callId as string));
  // Both agents become ready through different controllers.
  t.equal((await ctlA.api('POST', '/api/agents/x1/ready')).status, 200);
  t.equal((await ctlB.api('POST', '/api/agents/x2/ready')).status, 200);

  const offers = (): LogLine[] => [...ctlA.logs, ...ctlB.logs].filter((l) => l.msg === 'call offered to agent').sort((a, b) => a.time - b.time);
  await until('six calls offered', () => offers().length >= 6, 60_000);
  for (const c of calls) t.equal((await c.sipp.done).exitCode, 0, 'every citizen was answered and hung up on normally');

  const offered = offers();
  t.same(offered.map((l) => l.callId), arrival, 'offered in order of arrival, whichever switch the caller came in on');
  t.equal(new Set(offered.map((l) => l.callId)).size, 6, 'no call offered twice');
  const byController = (ctl: ControllerProcess, lab: AcdLab) => ctl.logs.filter((l) => l.msg === 'call offered to agent').every((l) => String(l.callId).startsWith(`test-${lab.lab.name}-`));
  t.ok(byController(ctlA, labA) && byController(ctlB, labB), 'each controller offered only the calls on its own switch');

  // The kept state log: between two offers to the same agent, the agent was free again.
  const events = await labA.lab.redis.xrange(`${labA.lab.prefix}:agent-events`, '-', '+');
  for (const id of ['x1', 'x2']) {
    const states = events.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]))).filter((e) => e.agent === id).map((e) => e.state);
    let busy = false;
    let double = false;
    for (const s of states) {
      if (s === 'reserved') { if (busy) double = true; busy = true; }
      if (s === 'ready' || s === 'not-ready' || s === 'logged-out') busy = false;
    }
    t.notOk(double, `${id} was never offered a call while busy (${states.join(' → ')})`);
    t.ok(states.filter((s) => s === 'reserved').length >= 2, `${id} took calls`);
  }
});
