// A hidden number stays hidden on every surface a person or a log reads: the live-calls list
// (ops, admin, supervisor), the controller's log, the call records and the event stream. Two
// real calls prove it: a call through a virtual number (AXB) and a call to a queue with
// `callerNumber: masked`. A token with `revealNumbers` sees the real numbers, and each view
// is written to the audit stream with who and which call.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, agentPort, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type EventStream, openEventStream } from '../helpers/events.js';
import { dbRows, streamEntries, until } from '../helpers/lab.js';
import { runSipp } from '../helpers/sipp.js';

const X = '12348'; // a number the lab routes to the controller, made the pool's only one
const A = '02388880001'; // the department
const B = '13800000501'; // the citizen bound to it
const QUEUED = '13800000701'; // a caller of the masked queue
const hidden = new RegExp(`${A}|${B}|${QUEUED}`);
const tokens = {
  ops: 'ops-token-masking-0123456789',
  boss: 'boss-token-masking-0123456789',
  auditor: 'auditor-token-masking-0123456789',
};

let acdLab: AcdLab;
let controller: ControllerProcess;
let stream: EventStream;

t.before(async () => {
  acdLab = await startAcdLab(
    'mask-surfaces',
    29,
    [{ id: 'm1', skills: { general: 5 }, scenario: 'agent-answers.xml', team: 'a' }],
    {
      queues: acdQueuesWith(`  ringSeconds: 4
  wrapUpSeconds: 1
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""
  callerNumber: masked`),
    },
  );
  const pool = join(acdLab.dir, 'virtual-numbers.yaml');
  writeFileSync(pool, `numbers: ["${X}"]\n`);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(
    config,
    `auth:
  tokens:
    - { name: 运维值班, role: ops, token: ${tokens.ops} }
    - { name: 一组班长, role: supervisor, teams: [a], token: ${tokens.boss} }
    - { name: 隐私审计员, role: ops, revealNumbers: true, token: ${tokens.auditor} }
`,
  );
  controller = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_CONFIG: config, REXIAN_VIRTUAL_NUMBERS_FILE: pool },
    acdLab.lab.ports.controller,
  ).start();
  await controller.waitReady();
  stream = await openEventStream(acdLab.lab.ports.controller, { authorization: `Bearer ${tokens.boss}` });
});

t.teardown(async () => {
  stream?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function as(
  token: string,
  path: string,
): Promise<{ status: number; body: { calls: Array<Record<string, unknown>> } }> {
  const res = await fetch(`${controller.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { calls: Array<Record<string, unknown>> } };
}

const ids: string[] = [];

t.test(
  "an AXB call and a masked queue's call: no real number in the live-calls list, for ops, admin or supervisor",
  async (t) => {
    t.equal((await controller.api('POST', '/api/agents/m1/login', { ready: true })).status, 200);
    const binding = await controller.api<{ id: string; x: string }>('POST', '/api/bindings', {
      a: A,
      b: B,
      x: X,
      caseId: 'S-1',
    });
    t.equal(binding.status, 201);
    // B's phone, on the lab's public trunk.
    const far = runSipp({
      scenario: 'agent-answers.xml',
      localPort: agentPort(acdLab.lab, 9),
      mediaPort: acdLab.lab.ports.sippMedia + 90,
      timeoutSec: 60,
    });
    const axb = citizen(acdLab.lab, controller, { did: X, caller: A, hangUpAfterMs: 9000 });
    const queued = citizen(acdLab.lab, controller, { did: '7001', caller: QUEUED, hangUpAfterMs: 9000 });
    const axbId = String((await axb.log(LogEvent.maskingConnected, 15_000)).callId);
    const queuedId = String((await queued.log(LogEvent.callConnectedToAgent, 15_000)).callId);
    ids.push(axbId, queuedId);

    const admin = (await controller.api<{ calls: Array<Record<string, unknown>> }>('GET', '/api/calls')).body.calls;
    const ops = (await as(tokens.ops, '/api/calls')).body.calls;
    const boss = (await as(tokens.boss, '/api/calls')).body.calls;
    // The list is in order of arrival, and the two calls arrive at almost the same moment.
    const byId = (list: Array<Record<string, unknown>>, id: string): Record<string, unknown> | undefined =>
      list.find((c) => c.callId === id);
    t.match(
      [byId(admin, axbId), byId(admin, queuedId)],
      [
        { caller: '023****0001', callerMasked: true },
        { caller: '138****0701', callerMasked: true },
      ],
      'admin: both masked',
    );
    t.equal(ops.length, 2, 'ops sees both calls');
    t.same(
      boss.map((c) => c.callId),
      [queuedId],
      "the supervisor sees their team's call",
    );
    for (const [who, list] of [
      ['admin', admin],
      ['ops', ops],
      ['supervisor', boss],
    ] as const)
      t.notMatch(JSON.stringify(list), hidden, `${who}: no hidden number`);

    const revealed = (await as(tokens.auditor, '/api/calls')).body.calls;
    t.match(
      [byId(revealed, axbId), byId(revealed, queuedId)],
      [
        { caller: A, callerMasked: false },
        { caller: QUEUED, callerMasked: false },
      ],
      'a token that may reveal numbers sees them',
    );
    const audit = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`);
    for (const callId of [axbId, queuedId]) {
      t.ok(
        audit.some((e) => e.action === 'reveal-number' && e.who === '隐私审计员' && e.callId === callId),
        `the view of ${callId} is audited with who and the call`,
      );
    }
    await axb.sipp.done;
    await queued.sipp.done;
    far.kill();
  },
);

t.test('the call records keep no hidden number, in their caller, legs or events', async (t) => {
  const rows = await until(
    'both records',
    async () => {
      const r = await dbRows<Record<string, unknown>>(
        acdLab.lab.env.DATABASE_URL!,
        'SELECT * FROM call_records WHERE call_id = ANY($1)',
        [ids],
      );
      return r.length === 2 ? r : undefined;
    },
    20_000,
  );
  t.ok(
    rows.every((r) => r.caller_masked === true),
    'both marked masked',
  );
  t.notMatch(JSON.stringify(rows), hidden, 'no hidden number anywhere in the rows');
  t.ok(
    rows.every((r) => (r.legs as Array<{ party: string }>).length >= 2),
    'the legs are kept (masked)',
  );
});

t.test("the supervisor's event stream and the controller's log carry no hidden number", async (t) => {
  t.ok(
    stream.messages.some((m) => m.type === 'agent.offer' && m.callId === ids[1]),
    'the supervisor saw the offer',
  );
  t.notMatch(JSON.stringify(stream.messages), hidden, 'no event carried a hidden number');
  t.ok(
    controller.logs.some((l) => l.event === LogEvent.callEntered && l.callId === ids[0] && l.caller === '023****0001'),
    '"call entered" names the caller masked',
  );
  t.notMatch(JSON.stringify(controller.logs), hidden, 'no log line carries a hidden number');
});
