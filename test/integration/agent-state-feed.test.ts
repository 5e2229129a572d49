// What the desk needs from the controller, against the real controller, Asterisk and a SIPp
// agent phone: agent.state on every change of the agent's state (from any controller), the
// agent's current call for a resync (ringing, talking, held), and the roster's not-ready reasons.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type EventStream, openEventStream } from '../helpers/events.js';
import { until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';

const tokens = { f1: 'agent-f1-token-0123456789', f2: 'agent-f2-token-0123456789' };
let acdLab: AcdLab;
let controller: ControllerProcess;
let other: ControllerProcess | undefined;

/** The agent's phone rings 2.5 s before it answers: long enough to ask for the call while it rings. */
function slowAnswer(): string {
  const base = readFileSync(join(repoRoot, 'test/sipp/agent-answers.xml'), 'utf8');
  const marker = '  <send retrans="500">';
  const file = join(scratchDir('scenario'), 'agent-answers-slowly.xml');
  writeFileSync(file, base.replace(marker, `  <pause milliseconds="2500"/>\n${marker}`));
  return file;
}

t.before(async () => {
  acdLab = await startAcdLab('state-feed', 71, [
    { id: 'f1', skills: { general: 5 }, scenario: slowAnswer(), team: 'a' },
    { id: 'f2', skills: { special: 5 }, scenario: 'none', team: 'b' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 王芳, role: agent, agent: f1, token: ${tokens.f1} }
    - { name: 李强, role: agent, agent: f2, token: ${tokens.f2} }
`,
  );
  acdLab.lab.env.REXIAN_CONFIG = config;
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  // A second controller on the same Redis (its own ARI app on the same Asterisk, its own port).
  other = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_ARI_APP: 'rexian-other', REXIAN_HTTP_PORT: String(acdLab.lab.ports.controller + 1) },
    acdLab.lab.ports.controller + 1,
  ).start();
  await other.waitReady();
});

t.teardown(async () => {
  await other?.kill('SIGKILL');
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function as(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  at: ControllerProcess = controller,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${at.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const statesOf = (stream: EventStream, agentId: string) =>
  stream.messages.filter((m) => m.type === 'agent.state' && m.agentId === agentId);

t.test("the roster's not-ready reasons, to anyone signed in, in the roster's order", async (t) => {
  const res = await as(tokens.f1, 'GET', '/api/not-ready-reasons');
  t.equal(res.status, 200);
  t.same(res.body, {
    reasons: [
      { code: 'break', label: '小休' },
      { code: 'training', label: '培训' },
      { code: 'meeting', label: '会议' },
      { code: 'meal', label: '用餐' },
      { code: 'no-answer', label: '未接听' },
    ],
  });
  t.equal((await fetch(`${controller.url}/api/not-ready-reasons`)).status, 401, 'nobody else');
});

t.test(
  "the agent's stream tells every change: login, ready, the offer, on the call, wrap-up, ready again; " +
    'the current call reads ringing, talking and held, and only for the agent',
  async (t) => {
    const stream = await openEventStream(acdLab.lab.ports.controller, { authorization: `Bearer ${tokens.f1}` });
    t.teardown(() => stream.close());
    t.equal((await as(tokens.f1, 'POST', '/api/agents/f1/login', {})).status, 200);
    await until('login told', () => statesOf(stream, 'f1').length >= 1, 5_000);
    t.match(statesOf(stream, 'f1')[0], { state: 'not-ready', reason: 'login', previous: 'logged-out' });
    t.same((await as(tokens.f1, 'GET', '/api/agents/f1/call')).body, { call: null }, 'no call yet');

    t.equal((await as(tokens.f1, 'POST', '/api/agents/f1/ready')).status, 200);
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000711' });
    const reserved = await until(
      'the offer told',
      () => statesOf(stream, 'f1').find((m) => m.state === 'reserved'),
      20_000,
    );
    const { callId } = await c.entered;
    t.match(reserved, { callId, previous: 'ready' }, 'the reservation names the call');

    // While the phone rings: the call, as the screen pop showed it.
    const ringing = await until(
      'the call ringing',
      async () => {
        const res = await as(tokens.f1, 'GET', '/api/agents/f1/call');
        const call = res.body.call as Record<string, unknown> | null;
        return call?.phase === 'ringing' ? call : undefined;
      },
      3_000,
      100,
    );
    t.match(ringing, {
      callId,
      queue: 'general',
      phase: 'ringing',
      held: false,
      muted: false,
      recordingPaused: false,
      pop: { did: '7001', line: '7001', caller: '13800000711', callerMasked: false, tags: [], callback: false },
    });
    t.type(ringing.offeredAt, 'string');
    t.notOk('answeredAt' in ringing, 'not answered yet');
    const refused = await as(tokens.f2, 'GET', '/api/agents/f1/call');
    t.equal(refused.status, 403, "another agent may not read this agent's call");
    t.match(refused.body, { error: { code: 'REXIAN_FORBIDDEN' } });

    await c.log(LogEvent.callConnectedToAgent);
    const talking = (await as(tokens.f1, 'GET', '/api/agents/f1/call')).body.call as Record<string, unknown>;
    t.match(talking, { callId, phase: 'talking', held: false });
    t.type(talking.answeredAt, 'string');
    const elsewhere = await as(tokens.f1, 'GET', '/api/agents/f1/call', undefined, other!);
    t.equal(elsewhere.status, 200, 'asked of a controller that does not hold the call');
    t.same(elsewhere.body, { call: talking }, 'it asks the one that does, and answers the same');
    t.equal((await as(tokens.f1, 'POST', '/api/agents/f1/call/hold')).status, 200);
    t.match((await as(tokens.f1, 'GET', '/api/agents/f1/call')).body, {
      call: { callId, phase: 'talking', held: true },
    });
    t.equal((await as(tokens.f1, 'POST', '/api/agents/f1/call/mute')).status, 200);
    t.match((await as(tokens.f1, 'GET', '/api/agents/f1/call')).body, { call: { held: true, muted: true } });

    t.equal((await as(tokens.f1, 'POST', '/api/agents/f1/call/hangup')).status, 200);
    await c.sipp.done;
    await until(
      'ready again told',
      () => statesOf(stream, 'f1').filter((m) => m.state === 'ready').length >= 2,
      10_000,
    );
    const changes = statesOf(stream, 'f1');
    t.same(
      changes.map((m) => m.state),
      ['not-ready', 'ready', 'reserved', 'on-call', 'wrap-up', 'ready'],
      'each change told once, in order',
    );
    t.same(
      changes.map((m) => m.previous),
      ['logged-out', 'not-ready', 'ready', 'reserved', 'on-call', 'wrap-up'],
      'each with the state it left',
    );
    for (const m of changes) t.ok(!Number.isNaN(Date.parse(String(m.since))), `${String(m.state)} since ${m.since}`);
    const wrap = changes[4]!;
    t.match(wrap, { callId, reason: 'general' });
    t.equal(
      Date.parse(String(wrap.wrapUpUntil)) - Date.parse(String(wrap.since)),
      2000,
      "the wrap-up's end: the queue's 2 s",
    );
    t.same((await as(tokens.f1, 'GET', '/api/agents/f1/call')).body, { call: null }, 'no call after it ended');
  },
);

t.test("a change made through another controller reaches this controller's stream", async (t) => {
  const stream = await openEventStream(acdLab.lab.ports.controller, { authorization: `Bearer ${tokens.f2}` });
  t.teardown(() => stream.close());
  t.equal((await other!.api('POST', '/api/agents/f2/login', {})).status, 200, 'logged in through the other controller');
  const told = await until('the login told here', () => statesOf(stream, 'f2')[0], 5_000);
  t.match(told, { state: 'not-ready', reason: 'login', previous: 'logged-out' });
  t.equal((await other!.api('POST', '/api/agents/f2/logout')).status, 200);
  await until('the logout told here', () => statesOf(stream, 'f2')[1], 5_000);
  t.same(
    statesOf(stream, 'f2').map((m) => m.state),
    ['not-ready', 'logged-out'],
    'once each',
  );
  t.notOk(
    stream.messages.some((m) => m.type === 'agent.state' && m.agentId === 'f1'),
    'and the agent is told only their own changes',
  );
});
