// Transfers, consultations and the three-way call with a service-centre window (一号答),
// proved with sound: every party's phone "speaks" its own tone, and what a channel hears
// is recorded by an Asterisk spy and searched for each tone.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { agentSpeakingScenario, listen, type ProbeApp, testApp, tonePcap } from '../helpers/audio.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type EventStream, openEventStream } from '../helpers/events.js';
import { dbRows, until } from '../helpers/lab.js';
import { type RunningSipp, runSipp, startLine } from '../helpers/sipp.js';

const CITIZEN_HZ = 500;
const AGENT_HZ = 1004;
const AGENT2_HZ = 1400;
const WINDOW_HZ = 1800;

let acdLab: AcdLab;
let controller: ControllerProcess;
let probe: ProbeApp;
let events: EventStream;

t.before(async () => {
  acdLab = await startAcdLab('transfer', 14, [
    { id: 'x1', skills: { general: 5 }, scenario: agentSpeakingScenario(AGENT_HZ) },
    { id: 'x2', skills: { special: 5 }, scenario: agentSpeakingScenario(AGENT2_HZ) },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  probe = await testApp(acdLab.lab);
  events = await openEventStream(acdLab.lab.ports.controller, {
    authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}`,
  });
});

t.teardown(async () => {
  events?.close();
  probe?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

const pct = (x: number): string => `${Math.round(x * 100)}%`;
let ears = 0;
const hears = async (channel: string, hz: number): Promise<number> =>
  (await listen(acdLab.lab, probe, channel, `tr-ear-${ears++}`, 1500, hz)).toneWindows;

/** Both agents ready, out of any wrap-up. */
async function agentsReady(): Promise<void> {
  for (const id of ['x1', 'x2']) {
    await controller.api('POST', `/api/agents/${id}/login`, { ready: true });
    await controller.api('POST', `/api/agents/${id}/end-wrap-up`);
    await controller.api('POST', `/api/agents/${id}/ready`);
  }
}

/** The window's desk phone (the lab's public trunk ends at this SIPp), speaking its tone. */
function windowPhone(scenario = agentSpeakingScenario(WINDOW_HZ)): RunningSipp {
  return runSipp({
    scenario,
    localPort: acdLab.lab.ports.sipp + 9,
    mediaPort: acdLab.lab.ports.sippMedia + 90,
    timeoutSec: 120,
  });
}

/** A citizen, speaking their tone, connected to x1. */
async function citizenWithX1(caller: string) {
  const c = citizen(acdLab.lab, controller, { did: '7001', caller, steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }] });
  const connected = await c.log(LogEvent.callConnectedToAgent, 30_000, (l) => l.agentId === 'x1');
  return { ...c, callId: connected.callId as string };
}

t.test("the window directory is listed for agents' desktops", async (t) => {
  const res = await controller.api<{ windows: Array<{ id: string; name: string; centre: string }> }>(
    'GET',
    '/api/windows',
  );
  t.equal(res.status, 200);
  t.match(
    res.body.windows.find((w) => w.id === 'bdc'),
    { name: '不动产登记窗口', centre: '市政务服务中心' },
  );
});

t.test(
  '一号答 three-way: consult a window (the citizen hears music), join all three (each hears the other two), the agent leaves (warm hand-off)',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000201');
    const callId = c.callId;
    const window = windowPhone();

    const consult = await controller.api<{ consulting: string; channel: string }>(
      'POST',
      '/api/agents/x1/call/consult',
      { window: 'bdc' },
    );
    t.equal(consult.status, 200);
    t.equal(consult.body.consulting, '市政务服务中心 不动产登记窗口');
    const windowLeg = consult.body.channel;
    await c.log(LogEvent.consultAnswered, 15_000);

    const consulting = {
      windowHearsAgent: await hears(windowLeg, AGENT_HZ),
      windowHearsCitizen: await hears(windowLeg, CITIZEN_HZ),
      citizenHearsAgent: await hears(callId, AGENT_HZ),
      citizenHearsWindow: await hears(callId, WINDOW_HZ),
    };
    t.ok(
      consulting.windowHearsAgent > 0.7,
      `consulting: the window hears the agent (${pct(consulting.windowHearsAgent)})`,
    );
    t.ok(
      consulting.windowHearsCitizen < 0.1,
      `consulting: the window does not hear the citizen (${pct(consulting.windowHearsCitizen)})`,
    );
    t.ok(
      consulting.citizenHearsAgent < 0.1 && consulting.citizenHearsWindow < 0.1,
      `consulting: the citizen hears neither (${pct(consulting.citizenHearsAgent)}, ${pct(consulting.citizenHearsWindow)})`,
    );

    t.equal((await controller.api('POST', '/api/agents/x1/call/consult/conference')).status, 200);
    const agentLeg = `${callId}-a1`;
    const three = {
      citizenHearsAgent: await hears(callId, AGENT_HZ),
      citizenHearsWindow: await hears(callId, WINDOW_HZ),
      agentHearsCitizen: await hears(agentLeg, CITIZEN_HZ),
      agentHearsWindow: await hears(agentLeg, WINDOW_HZ),
      windowHearsCitizen: await hears(windowLeg, CITIZEN_HZ),
      windowHearsAgent: await hears(windowLeg, AGENT_HZ),
    };
    for (const [who, share] of Object.entries(three)) t.ok(share > 0.6, `three-way: ${who} (${pct(share)})`);

    t.equal((await controller.api('POST', '/api/agents/x1/call/hangup')).status, 200, 'the agent leaves');
    await c.log(LogEvent.agentLeftThreeWay, 10_000);
    t.match((await controller.api('GET', '/api/agents/x1')).body, { state: 'wrap-up' }, 'the agent goes to wrap-up');
    const after = await acdLab.lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
    t.same(after.body.channels.sort(), [callId, windowLeg].sort(), 'the citizen and the window stay together');
    const handedOff = await hears(callId, WINDOW_HZ);
    t.ok(handedOff > 0.7, `and keep talking (${pct(handedOff)})`);

    await acdLab.lab.ari('DELETE', `/channels/${windowLeg}`); // the window hangs up
    t.equal((await c.sipp.done).exitCode, 0, 'then the call ends for the citizen');
    const invite = (await window.done).messages.find(
      (m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'),
    );
    t.match(startLine(invite?.text ?? ''), /^INVITE sip:02367720001@/, "the window's number was dialled on the trunk");
    t.match(invite?.text ?? '', /From:[^\n]*7001/, "presenting the hotline's number");
    t.notMatch(invite?.text ?? '', /13800000201/, "and not the citizen's");
  },
);

t.test(
  'a window that does not take the call: the citizen is back with the agent, and the agent is told why',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000202');
    const window = windowPhone('callee-busy.xml');
    const from = events.messages.length;
    t.equal((await controller.api('POST', '/api/agents/x1/call/consult', { window: 'gjj' })).status, 200);
    const failed = await c.log(LogEvent.consultFailed, 15_000);
    t.match(String(failed.cause), /busy/i, 'the cause is logged');
    const told = await until(
      'agent told',
      () => events.messages.slice(from).find((m) => m.type === 'agent.consult-failed'),
      5_000,
    );
    t.match(
      told,
      { agentId: 'x1', callId: c.callId, with: '市政务服务中心 公积金窗口' },
      'the agent gets an event naming the window',
    );
    t.match(String(told.cause), /busy/i, 'and the reason');
    const back = await hears(c.callId, AGENT_HZ);
    t.ok(back > 0.7, `the citizen hears the agent again (${pct(back)})`);
    await window.done;
    t.equal((await controller.api('POST', '/api/agents/x1/call/hangup')).status, 200);
    await c.sipp.done;
  },
);

t.test(
  'attended transfer to another agent: consult, complete; the second agent has the call, the first goes to wrap-up',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000203');
    const forged = await controller.api('POST', '/api/agents/x1/call/consult', {
      number: '13800000000&PJSIP/agent-x2',
    });
    t.equal(forged.status, 400, 'a forged dial string is refused');
    t.match(forged.body, { error: { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'number' } } });
    t.equal(
      (await controller.api('POST', '/api/agents/x1/call/consult', { number: '16801234' })).status,
      400,
      'so is a premium-rate number',
    );
    t.equal(
      (await controller.api('POST', '/api/agents/x1/call/consult', { window: 'nowhere' })).status,
      404,
      'an unknown window is named',
    );
    t.equal(
      (await controller.api('POST', '/api/agents/x1/call/consult', { agent: 'x1' })).status,
      409,
      'an agent cannot consult themselves',
    );
    t.equal(
      (await controller.api('POST', '/api/agents/x1/call/consult/complete')).status,
      409,
      'nothing to complete yet',
    );

    const from = events.messages.length;
    const consult = await controller.api<{ channel: string }>('POST', '/api/agents/x1/call/consult', { agent: 'x2' });
    t.equal(consult.status, 200);
    const pop = await until(
      'x2 screen pop',
      () => events.messages.slice(from).find((m) => m.type === 'agent.offer' && m.agentId === 'x2'),
      5_000,
    );
    t.match(
      pop,
      { callId: c.callId, transferredBy: 'x1', caller: '13800000203' },
      'the consulted agent gets the screen pop',
    );
    await c.log(LogEvent.consultAnswered, 15_000);
    t.match((await controller.api('GET', '/api/agents/x2')).body, { state: 'on-call', callId: c.callId });
    const onHold = await hears(c.callId, AGENT2_HZ);
    t.ok(onHold < 0.1, `consulting: the citizen does not hear the second agent (${pct(onHold)})`);

    const completedAt = controller.logs.length;
    t.equal((await controller.api('POST', '/api/agents/x1/call/consult/complete')).status, 200);
    await c.log(LogEvent.callTransferred, 10_000);
    await controller.waitForEvent(LogEvent.agentInWrapUp, (l) => l.agentId === 'x1', 5_000, completedAt);
    const withX2 = { x2: await hears(c.callId, AGENT2_HZ), x1: await hears(c.callId, AGENT_HZ) };
    t.ok(withX2.x2 > 0.7, `the citizen talks to the second agent (${pct(withX2.x2)})`);
    t.ok(withX2.x1 < 0.1, `and no longer to the first (${pct(withX2.x1)})`);
    t.equal(
      (await controller.api('POST', '/api/agents/x1/call/hold')).status,
      409,
      'the first agent has no call to act on',
    );
    t.equal((await controller.api('POST', '/api/agents/x2/call/hold')).status, 200, 'the second agent has the call');
    t.equal((await controller.api('POST', '/api/agents/x2/call/resume')).status, 200);
    t.equal((await controller.api('POST', '/api/agents/x2/call/hangup')).status, 200);
    await c.sipp.done;
    await controller.waitForEvent(LogEvent.agentInWrapUp, (l) => l.agentId === 'x2', 10_000);
  },
);

t.test("blind transfer to a queue: the first agent is free at once; the queue's agent answers", async (t) => {
  await agentsReady();
  const c = await citizenWithX1('13800000204');
  t.equal(
    (await controller.api('POST', '/api/agents/x1/call/transfer', { queue: 'nosuch' })).status,
    404,
    'an unknown queue is named',
  );
  t.equal(
    (await controller.api('POST', '/api/agents/x1/call/transfer', { queue: 'special', agent: 'x2' })).status,
    400,
    'one target only',
  );
  const res = await controller.api('POST', '/api/agents/x1/call/transfer', { queue: 'special' });
  t.equal(res.status, 200);
  t.match(
    (await controller.api('GET', '/api/agents/x1')).body,
    { state: 'wrap-up' },
    'the first agent is released at once',
  );
  await c.log(LogEvent.callConnectedToAgent, 15_000, (l) => l.agentId === 'x2' && l.queue === 'special');
  const heard = await hears(c.callId, AGENT2_HZ);
  t.ok(heard > 0.7, `the citizen talks to the special queue's agent (${pct(heard)})`);
  t.equal((await controller.api('POST', '/api/agents/x2/call/hangup')).status, 200);
  await c.sipp.done;
});

t.test(
  'blind transfer to a number that is busy: the citizen goes back to the queue ahead of new callers, and is answered',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000205');
    const busy = windowPhone('callee-busy.xml');
    const from = events.messages.length;
    t.equal((await controller.api('POST', '/api/agents/x1/call/transfer', { number: '02367720009' })).status, 200);
    await c.log(LogEvent.blindTransferFailed, 15_000);
    const told = await until(
      'transfer-failed event',
      () => events.messages.slice(from).find((m) => m.type === 'agent.transfer-failed'),
      5_000,
    );
    t.match(told, { agentId: 'x1', callId: c.callId }, 'the transferring agent is told');
    const queued = await c.log(LogEvent.callQueued, 5_000, (l) => Number(l.priority) >= 1);
    t.ok(queued, 'the citizen is queued again with a raised priority');
    await busy.done;
    await controller.api('POST', '/api/agents/x1/end-wrap-up');
    await c.log(LogEvent.callConnectedToAgent, 15_000, (l) => Number(l.waitMs) >= 0 && l.time > queued.time);
    t.equal((await controller.api('POST', '/api/agents/x1/call/hangup')).status, 200);
    await c.sipp.done;
  },
);

t.test(
  'blind transfer to a number that answers: the citizen talks to it; when it hangs up the call ends',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000206');
    const phone = windowPhone();
    const res = await controller.api<{ channel: string }>('POST', '/api/agents/x1/call/transfer', {
      number: '02367720010',
    });
    t.equal(res.status, 200);
    await c.log(LogEvent.callTransferred, 15_000);
    const heard = await hears(c.callId, WINDOW_HZ);
    t.ok(heard > 0.7, `the citizen talks to the number (${pct(heard)})`);
    await acdLab.lab.ari('DELETE', `/channels/${res.body.channel}`);
    t.equal((await c.sipp.done).exitCode, 0, 'when it hangs up, so is the citizen');
    await phone.done;
  },
);

t.test('consult cancelled: the other agent is free again and the citizen is back with the first', async (t) => {
  await agentsReady();
  const c = await citizenWithX1('13800000207');
  t.equal((await controller.api('POST', '/api/agents/x1/call/consult', { agent: 'x2' })).status, 200);
  await c.log(LogEvent.consultAnswered, 15_000);
  t.equal((await controller.api('POST', '/api/agents/x1/call/hold')).status, 409, 'no hold during a consultation');
  const cancel = await controller.api('POST', '/api/agents/x1/call/consult/cancel');
  t.equal(cancel.status, 200);
  t.match(cancel.body, { cancelled: true, with: '测试x2 (x2)' });
  t.match(
    (await controller.api('GET', '/api/agents/x2')).body,
    { state: 'ready' },
    'the consulted agent is ready again',
  );
  const back = { x1: await hears(c.callId, AGENT_HZ), x2: await hears(c.callId, AGENT2_HZ) };
  t.ok(back.x1 > 0.7, `the citizen hears the first agent again (${pct(back.x1)})`);
  t.ok(back.x2 < 0.1, `and not the second (${pct(back.x2)})`);
  t.equal((await controller.api('POST', '/api/agents/x1/call/hangup')).status, 200);
  await c.sipp.done;
});

t.test(
  'blind transfer to an agent: the first agent is released at once, the second answers and has the call',
  async (t) => {
    await agentsReady();
    const c = await citizenWithX1('13800000208');
    await controller.api('POST', '/api/agents/x2/not-ready', { reason: 'break' });
    const notReady = await controller.api('POST', '/api/agents/x1/call/transfer', { agent: 'x2' });
    t.equal(notReady.status, 409, 'an agent who is not ready cannot be given a call');
    t.match(notReady.body, { error: { code: 'REXIAN_CALL_STATE', details: { agentId: 'x2', state: 'not-ready' } } });
    await controller.api('POST', '/api/agents/x2/ready');
    t.equal((await controller.api('POST', '/api/agents/x1/call/transfer', { agent: 'x2' })).status, 200);
    t.match(
      (await controller.api('GET', '/api/agents/x1')).body,
      { state: 'wrap-up' },
      'the first agent is released at once',
    );
    await c.log(LogEvent.callTransferred, 15_000);
    t.match((await controller.api('GET', '/api/agents/x2')).body, { state: 'on-call', callId: c.callId });
    const heard = await hears(c.callId, AGENT2_HZ);
    t.ok(heard > 0.7, `the citizen talks to the second agent (${pct(heard)})`);
    t.equal((await controller.api('POST', '/api/agents/x2/call/hangup')).status, 200);
    await c.sipp.done;
  },
);

t.test("the call records tell each call's story: agents, transfers, the window, the recording", async (t) => {
  const rows = await until(
    'records written',
    async () => {
      const r = await dbRows<Record<string, unknown>>(acdLab.lab.env.DATABASE_URL!, 'SELECT * FROM call_records');
      return r.length >= 8 ? r : undefined;
    },
    15_000,
  );
  const byCaller = (caller: string) => rows.find((r) => r.caller === caller);
  t.match(
    byCaller('13800000201'),
    { answered: true, agents: ['x1'], window_id: 'bdc', transfers: 1, hangup_side: 'other' },
    'three-way with the window, handed off',
  );
  t.same(
    byCaller('13800000201')!.recordings,
    [`${byCaller('13800000201')!.call_id as string}-talk`],
    'one recording for the whole call',
  );
  t.match(
    byCaller('13800000203'),
    { agents: ['x1', 'x2'], agent_id: 'x1', transfers: 1, hangup_side: 'agent' },
    'attended transfer: both agents',
  );
  t.match(byCaller('13800000204'), { agents: ['x1', 'x2'], transfers: 1, queue: 'special' }, 'blind to a queue');
  t.ok(Number(byCaller('13800000204')!.talk_ms) > 0, 'talk time kept');

  // Each record carries its legs and its timeline.
  type Leg = { role: string; party: string; answeredAt: string | null; endedAt: string };
  const legs = (caller: string) =>
    (byCaller(caller)!.legs as Leg[]).map((l) => `${l.role}:${l.party}:${l.answeredAt ? 'answered' : 'not answered'}`);
  const events = (caller: string) => (byCaller(caller)!.events as Array<{ type: string }>).map((e) => e.type);
  const inOrder = (seen: string[], wanted: string[]) => {
    let i = 0;
    for (const s of seen) if (s === wanted[i]) i += 1;
    return i === wanted.length;
  };
  t.same(
    legs('13800000201'),
    ['citizen:13800000201:answered', 'agent:x1:answered', 'consult:window:bdc:answered'],
    'three-way: citizen, agent, window',
  );
  t.ok(
    inOrder(events('13800000201'), [
      'entered',
      'queued',
      'offered',
      'answered',
      'consult',
      'consult-answered',
      'three-way',
      'ended',
    ]),
    `three-way timeline: ${events('13800000201').join(' → ')}`,
  );
  t.same(
    legs('13800000203'),
    ['citizen:13800000203:answered', 'agent:x1:answered', 'consult:agent:x2:answered'],
    'attended transfer: the second agent is a consulted leg',
  );
  t.ok(
    inOrder(events('13800000203'), ['answered', 'consult', 'consult-answered', 'transferred', 'ended']),
    `attended transfer timeline: ${events('13800000203').join(' → ')}`,
  );
  for (const row of rows) {
    const l = row.legs as Leg[];
    t.ok(
      l.every((x) => x.endedAt >= String((row.started_at as Date).toISOString())),
      `${row.call_id as string}: every leg ended within the record`,
    );
  }
});
