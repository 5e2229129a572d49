// The agent's own day and their queues' waiting, through the real controller on a real
// PostgreSQL and Asterisk: figures worked out by hand from call records written into the
// lab's database (a transferred call, a masked caller, an emergency hand-off, yesterday's
// call), then a real SIPp call answered by the agent's SIPp phone that appears in their day
// once its record is written. The queues route counts a real citizen waiting in the agent's
// queue. Who may read: the agent themself, their team's supervisor, ops; another agent and
// another team's supervisor get 403.
import { join } from 'node:path';

import pg from 'pg';
import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { LogEvent } from '../../src/events/log-events.js';
import { localTime } from '../../src/ivr/calendar.js';
import type { CallRecord } from '../../src/records/call-record.js';
import { migrate } from '../../src/records/migrate.js';
import { insertRecords } from '../../src/records/record-rows.js';
import type { AgentDay, QueueWaiting } from '../../src/reports/agent-day.js';
import { shanghaiMidnight } from '../../src/reports/report.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;
let pool: pg.Pool;
const tokens: Record<string, string> = {};

let seq = 0;
function rec(p: Partial<CallRecord> & { at: Date }): CallRecord {
  const { at, ...rest } = p;
  const iso = at.toISOString();
  return {
    callId: `day-${++seq}`,
    direction: 'inbound',
    did: '12345',
    line: '12345 政务服务便民热线',
    caller: '13800000000',
    callerMasked: false,
    startedAt: iso,
    endedAt: new Date(at.getTime() + 120_000).toISOString(),
    endReason: 'hangup',
    flowId: 'main-12345',
    flowVersion: 'v1',
    ivrPath: [],
    digits: {},
    queue: 'general',
    originQueue: 'general',
    enteredQueueAt: iso,
    waitMs: 3000,
    answered: true,
    answeredAt: iso,
    abandoned: false,
    shortAbandon: false,
    agentId: null,
    agents: [],
    talkMs: null,
    holdMs: 0,
    transfers: 0,
    windowId: null,
    emergency: null,
    survey: null,
    recordings: [],
    maskingBinding: null,
    hangupSide: 'citizen',
    legs: [],
    events: [],
    ...rest,
  };
}

async function as<T>(who: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${controller.url}${path}`, {
    headers: { authorization: `Bearer ${tokens[who]}` },
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

t.before(async () => {
  acdLab = await startAcdLab('agent-day', 91, [
    { id: 'd1', skills: { general: 5 }, scenario: 'agent-answers-then-hangs-up.xml', talkMs: 2000, team: 'a' },
    { id: 'd2', skills: { general: 5, special: 3 }, scenario: 'none', team: 'a' },
    { id: 'd3', skills: { backup: 5 }, scenario: 'none', team: 'b' },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  pool = new pg.Pool({ connectionString: acdLab.lab.env.DATABASE_URL });
  await migrate(pool, join(repoRoot, 'migrations'));
  const people: Array<[string, Record<string, unknown>]> = [
    ['d1', { role: 'agent' }],
    ['d2', { role: 'agent' }],
    ['sup-a', { role: 'supervisor', teams: ['a'] }],
    ['sup-b', { role: 'supervisor', teams: ['b'] }],
    ['ops1', { role: 'ops' }],
  ];
  for (const [name, body] of people) {
    const put = await controller.api('PUT', `/api/people/${name}`, { ...body, password: `pw-${name}-long` });
    if (put.status !== 201) throw new Error(`PUT /api/people/${name}: ${put.status} ${JSON.stringify(put.body)}`);
    const res = await fetch(`${controller.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: `pw-${name}-long` }),
    });
    tokens[name] = ((await res.json()) as { token: string }).token;
  }

  const midnight = shanghaiMidnight(localTime(new Date()).date);
  const at = (minutes: number) => new Date(midnight.getTime() + minutes * 60_000);
  const t0 = at(10);
  await insertRecords(pool, [
    rec({ at: at(1), agentId: 'd1', agents: ['d1'], talkMs: 100_000, survey: 'satisfied', caller: '13800000001' }),
    rec({
      at: at(2),
      agentId: 'd1',
      agents: ['d1'],
      talkMs: 50_000,
      survey: 'dissatisfied',
      caller: '138****0002',
      callerMasked: true,
      hangupSide: 'agent',
    }),
    // d1 took it and passed it to d2 (the survey after it is d2's).
    rec({
      at: t0,
      agentId: 'd1',
      agents: ['d1', 'd2'],
      talkMs: 90_000,
      transfers: 1,
      survey: 'basically-satisfied',
      legs: [
        {
          channelId: 'c1',
          role: 'agent',
          party: 'd1',
          dialledAt: t0.toISOString(),
          answeredAt: t0.toISOString(),
          endedAt: new Date(t0.getTime() + 30_000).toISOString(),
          cause: 'transfer',
        },
        {
          channelId: 'c2',
          role: 'agent',
          party: 'd2',
          dialledAt: new Date(t0.getTime() + 31_000).toISOString(),
          answeredAt: new Date(t0.getTime() + 35_000).toISOString(),
          endedAt: new Date(t0.getTime() + 95_000).toISOString(),
          cause: null,
        },
      ],
    }),
    rec({ at: at(20), agentId: 'd1', agents: ['d1'], talkMs: 20_000, emergency: '110' }),
    // Yesterday (Shanghai), and a call nobody answered: neither is in today's day of d1.
    rec({ at: at(-5), agentId: 'd1', agents: ['d1'], talkMs: 999_000, survey: 'dissatisfied' }),
    rec({ at: at(30), answered: false, abandoned: true, answeredAt: null, agents: [] }),
  ]);
});

t.teardown(async () => {
  await pool?.end();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

t.test(
  "the agent's day counts today's calls they talked in, with their own talk and the surveys after them",
  async (t) => {
    const { status, body } = await as<AgentDay>('d1', '/api/agents/d1/day');
    t.equal(status, 200, 'the agent reads their own day');
    t.equal(body.date, localTime(new Date()).date, "today, the controller's local day");
    t.equal(body.callsTaken, 4, "four calls today (yesterday's and an unanswered one left out)");
    // 100 + 50 + 30 (d1's leg of the transferred call) + 20 = 200 s over 4 calls.
    t.equal(body.averageTalkSeconds, 50, 'average talk 50 s, their own part of the transferred call only');
    t.same(
      body.satisfaction,
      { answers: 2, satisfied: 1, basicallySatisfied: 0, dissatisfied: 1, rate: 0.5 },
      "satisfaction from the two surveys after them (the transferred call's is the colleague's)",
    );
    t.same(
      body.calls.map((c) => [c.outcome, c.talkSeconds, c.survey]),
      [
        ['emergency', 20, null],
        ['transferred', 30, null],
        ['agent-hung-up', 50, 'dissatisfied'],
        ['citizen-hung-up', 100, 'satisfied'],
      ],
      'each call, newest first, with its outcome, talk and survey',
    );
    const masked = body.calls.find((c) => c.callerMasked);
    t.equal(masked?.caller, '138****0002', 'a masked call shows only the masked number');
    t.notOk(
      JSON.stringify(body).includes('13800000002'),
      'the real number of a masked call is nowhere in the answer (the record never had it)',
    );

    const d2 = await as<AgentDay>('d2', '/api/agents/d2/day');
    t.match(
      d2.body,
      { callsTaken: 1, averageTalkSeconds: 60, satisfaction: { answers: 1, basicallySatisfied: 1, rate: 1 } },
      'the colleague who took the transferred call has it, with their 60 s and the survey',
    );
    t.equal(d2.body.calls[0]?.outcome, 'citizen-hung-up', 'and it ended with them');
  },
);

t.test("who may read an agent's day and queues", async (t) => {
  for (const path of ['/api/agents/d1/day', '/api/agents/d1/queues']) {
    t.equal((await as('d2', path)).status, 403, `another agent gets 403 (${path})`);
    t.equal((await as('sup-b', path)).status, 403, `another team's supervisor gets 403 (${path})`);
    t.equal((await as('sup-a', path)).status, 200, `the team's supervisor reads it (${path})`);
    t.equal((await as('ops1', path)).status, 200, `ops read it (${path})`);
    t.equal((await controller.api('GET', path)).status, 200, `the admin reads it (${path})`);
    t.equal((await fetch(`${controller.url}${path}`)).status, 401, `nobody signed in gets 401 (${path})`);
  }
  const body = (await as<{ error: { code: string } }>('d1', '/api/agents/d2/day')).body;
  t.equal(body.error.code, 'REXIAN_FORBIDDEN', 'refused with the catalogue code');
  t.equal((await controller.api('GET', '/api/agents/nobody/day')).status, 404, 'an agent not on the roster is 404');
});

t.test("the agent's queues show a real caller waiting, then the call they answer shows in their day", async (t) => {
  const queues = async (who: string, id: string) =>
    (await as<{ queues: QueueWaiting[] }>(who, `/api/agents/${id}/queues`)).body.queues;
  t.same(
    (await queues('d1', 'd1')).map((q) => q.id),
    ['general', 'tiny'],
    "the queues d1's skill (general) serves",
  );
  t.same(
    (await queues('d2', 'd2')).map((q) => q.id),
    ['general', 'tiny', 'special'],
    'and those of d2 (general and special)',
  );
  t.match(
    await queues('d1', 'd1'),
    [{ id: 'general', name: '综合', waiting: 0, longestWaitSeconds: 0 }],
    'none waiting',
  );

  // Logged in but not ready: the caller waits (with nobody logged in the flow would say goodbye).
  t.equal((await controller.api('POST', '/api/agents/d1/login', {})).status, 200, 'd1 logs in, not ready');
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000077' });
  await c.log(LogEvent.callQueued);
  const waiting = await until(
    'the caller shows as waiting in general',
    async () => {
      await new Promise((r) => setTimeout(r, 1_100)); // the figures are computed at most once a second
      const general = (await queues('d1', 'd1')).find((q) => q.id === 'general');
      return general && general.waiting === 1 && general.longestWaitSeconds >= 1 ? general : undefined;
    },
    10_000,
  );
  t.match(waiting, { waiting: 1 }, `one caller waiting in general, for ${waiting.longestWaitSeconds} s`);
  const d3 = await controller.api<{ queues: QueueWaiting[] }>('GET', '/api/agents/d3/queues');
  t.same(d3.body.queues, [], "an agent of other skills has no queue, so none of general's callers");

  const before = (await as<AgentDay>('d1', '/api/agents/d1/day')).body.callsTaken;
  t.equal((await controller.api('POST', '/api/agents/d1/ready')).status, 200, 'd1 goes ready');
  await c.log(LogEvent.callConnectedToAgent, 15_000);
  const day = await until(
    "the answered call is in d1's day",
    async () => {
      const b = (await as<AgentDay>('d1', '/api/agents/d1/day')).body;
      return b.callsTaken === before + 1 ? b : undefined;
    },
    30_000,
    500,
  );
  const newest = day.calls[0]!;
  t.match(newest, { caller: '13800000077', callerMasked: false, line: '7001' }, 'the newest call is the real one');
  t.ok(
    newest.talkSeconds !== null && newest.talkSeconds >= 1 && newest.talkSeconds < 10,
    `with its talk (${newest.talkSeconds} s)`,
  );
  t.equal(newest.outcome, 'agent-hung-up', "the agent's phone hung up");
  await c.sipp.done.catch(() => undefined);
});
