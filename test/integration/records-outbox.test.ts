// The record writer never stops for good: a vanished outbox stream gets its consumer group
// back, characters PostgreSQL cannot store are repaired, and a record it refuses for its
// data is set aside in the dead letters (where ops see and replay it) while the rest of its
// batch is written.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, type Lab, sleep, startLab, until } from '../helpers/lab.js';
import { citizenScenario, runSipp } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;
let dbUrl: string;

t.before(async () => {
  lab = await startLab('records-outbox', 43);
  dbUrl = lab.env.DATABASE_URL!;
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
});

const outboxKey = (): string => `${lab.prefix}:records:outbox`;
const deadKey = (): string => `${lab.prefix}:records:dead`;

let seq = 0;
/** A complete record as the controller would queue it, with fields to override. */
function craft(over: Record<string, unknown> = {}): Record<string, unknown> {
  const callId = `crafted-${Date.now()}-${++seq}`;
  const at = new Date().toISOString();
  return {
    callId,
    direction: 'inbound',
    did: '12345',
    line: '12345',
    caller: '13900000000',
    callerMasked: false,
    startedAt: at,
    endedAt: at,
    endReason: 'hangup',
    flowId: 'main-12345',
    flowVersion: null,
    ivrPath: ['welcome'],
    digits: {},
    queue: null,
    originQueue: null,
    enteredQueueAt: null,
    waitMs: null,
    answered: false,
    answeredAt: null,
    abandoned: false,
    shortAbandon: false,
    agentId: null,
    agents: [],
    talkMs: null,
    holdMs: null,
    transfers: 0,
    windowId: null,
    emergency: null,
    survey: null,
    recordings: [],
    maskingBinding: null,
    hangupSide: 'citizen',
    legs: [],
    events: [{ at, type: 'entered', did: '12345' }],
    ...over,
  };
}

const rowOf = async (callId: string): Promise<Record<string, unknown> | undefined> =>
  (await dbRows<Record<string, unknown>>(dbUrl, 'SELECT * FROM call_records WHERE call_id = $1', [callId]))[0];

t.test(
  'after the outbox stream and its group are deleted, the writer recreates them and records keep flowing',
  async (t) => {
    const before = craft();
    await lab.redis.xadd(outboxKey(), '*', 'record', JSON.stringify(before));
    await until('first record written', () => rowOf(String(before.callId)), 10_000);

    const from = controller.logs.length;
    t.equal(await lab.redis.del(outboxKey()), 1, 'the stream (and with it the consumer group) is gone');
    await sleep(1_500); // the writer's blocking read finds the group missing
    const after = craft();
    await lab.redis.xadd(outboxKey(), '*', 'record', JSON.stringify(after));
    const row = await until('record after the deletion written', () => rowOf(String(after.callId)), 10_000);
    t.equal(row.call_id, after.callId, 'a record queued after the deletion reached PostgreSQL');
    const recreated = controller.logs.slice(from).find((l) => l.event === LogEvent.outboxRecreated);
    t.ok(recreated, 'the writer said it recreated the group');
    t.notOk(
      controller.logs.slice(from).some((l) => l.event === LogEvent.recordsWaiting && l.side === 'postgres'),
      'and never blamed PostgreSQL, which was fine',
    );
    await until('outbox drained', async () => (await lab.redis.xlen(outboxKey())) === 0, 5_000);
  },
);

t.test("the dialer recreates the callbacks stream's group too when the stream is deleted", async (t) => {
  const key = `${lab.prefix}:callbacks`;
  await until('callbacks stream exists', async () => (await lab.redis.exists(key)) === 1, 5_000);
  const from = controller.logs.length;
  await lab.redis.del(key);
  const line = await controller.waitForEvent(LogEvent.callbacksStreamRecreated, undefined, 5_000, from);
  t.equal(line.stream, key);
  await sleep(2_000);
  t.notOk(
    controller.logs.slice(from).some((l) => l.event === LogEvent.dialerTickFailed),
    'and its ticks do not fail on NOGROUP',
  );
  const groups = (await lab.redis.xinfo('GROUPS', key)) as unknown[][];
  t.equal(groups.length, 1, 'the group is back');
});

t.test('a record holding NUL characters and a lone surrogate is written repaired, JSON columns included', async (t) => {
  const nul = craft({
    caller: '1390000\u00000001',
    ivrPath: ['welcome', 'menu\u0000'],
    digits: { answer: 'from an http node: a\u0000b', ['k\u0000ey']: 'v', broken: 'x\uD800y' },
    events: [{ at: new Date().toISOString(), type: 'lookup', text: 'NUL\u0000here' }],
  });
  await lab.redis.xadd(outboxKey(), '*', 'record', JSON.stringify(nul));
  const row = await until('repaired record written', () => rowOf(String(nul.callId)), 10_000);
  t.equal(row.caller, '13900000001', 'the NUL is gone from a text column');
  t.same(row.ivr_path, ['welcome', 'menu'], 'and from an array column');
  t.same(
    row.digits,
    { answer: 'from an http node: ab', key: 'v', broken: 'x\uFFFDy' },
    'and from jsonb values and keys; a lone surrogate becomes U+FFFD',
  );
  t.match(row.events, [{ type: 'lookup', text: 'NULhere' }]);
  t.ok(
    controller.logs.some((l) => l.event === LogEvent.recordRepaired && l.callId === nul.callId),
    'the repair is logged with the call',
  );
});

t.test(
  'a record PostgreSQL refuses goes to the dead letters, the rest of its batch is written, and ops replay it once fixed',
  async (t) => {
    const good1 = craft();
    const bad = craft({
      waitMs: 3_000_000_000,
      queue: 'general',
      originQueue: 'general',
      enteredQueueAt: new Date().toISOString(),
    }); // beyond integer
    const good2 = craft();
    // One MULTI: the writer reads the three as one batch.
    await lab.redis
      .multi()
      .xadd(outboxKey(), '*', 'record', JSON.stringify(good1))
      .xadd(outboxKey(), '*', 'record', JSON.stringify(bad))
      .xadd(outboxKey(), '*', 'record', JSON.stringify(good2))
      .exec();
    await until(
      'good records of the batch written',
      async () => (await rowOf(String(good1.callId))) && (await rowOf(String(good2.callId))),
      10_000,
    );
    t.notOk(await rowOf(String(bad.callId)), 'the refused record is not in the table');
    await until('outbox drained', async () => (await lab.redis.xlen(outboxKey())) === 0, 5_000);
    t.equal(await lab.redis.xlen(deadKey()), 1, 'it waits in the dead letters');

    t.equal((await fetch(`${controller.url}/api/records/dead-letters`)).status, 401, 'no token, no dead letters');
    const listed = await controller.api<{
      total: number;
      deadLetters: Array<{ id: string; callId: string; code: string; error: string; record: Record<string, unknown> }>;
    }>('GET', '/api/records/dead-letters');
    t.equal(listed.status, 200);
    t.equal(listed.body.total, 1);
    const [letter] = listed.body.deadLetters;
    t.match(letter, { callId: bad.callId, code: '22003', error: /out of range/ }, "listed with PostgreSQL's error");
    t.equal(letter!.record.waitMs, 3_000_000_000, 'and the record as it was refused');

    const again = await controller.api('POST', `/api/records/dead-letters/${letter!.id}/replay`);
    t.equal(again.status, 422, 'replayed unchanged, it is refused again');
    t.match(again.body, { error: { code: 'REXIAN_RECORD_REFUSED', details: { sqlstate: '22003' } } });
    t.equal(await lab.redis.xlen(deadKey()), 1, 'and stays in the dead letters');

    const fixed = await controller.api('POST', `/api/records/dead-letters/${letter!.id}/replay`, {
      record: { ...letter!.record, waitMs: 3_000 },
    });
    t.equal(fixed.status, 200, 'replayed corrected, it is written');
    t.match(fixed.body, { id: letter!.id, callId: bad.callId, written: true });
    t.match(await rowOf(String(bad.callId)), { wait_ms: 3_000, queue: 'general' });
    t.equal(await lab.redis.xlen(deadKey()), 0, 'and leaves the dead letters');
    t.equal(
      (await controller.api('POST', `/api/records/dead-letters/${letter!.id}/replay`)).status,
      404,
      'a second replay finds nothing',
    );
    const daily = await dbRows<{ n: string }>(
      dbUrl,
      "SELECT sum(offered) AS n FROM call_daily WHERE queue = 'general'",
    );
    t.equal(Number(daily[0]!.n), 1, 'the replayed call is in the daily roll-up once');
  },
);

t.test('a real call afterwards is written as served by the controller', async (t) => {
  const caller = '13900000077';
  const sipp = runSipp({
    scenario: citizenScenario([], { hangUpAfterMs: 1500 }),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: '12345',
    localPort: lab.ports.sipp,
    mediaPort: lab.ports.sippMedia,
    keys: { caller },
    timeoutSec: 30,
  });
  t.equal((await sipp.done).exitCode, 0, 'the call went through');
  const row = await until(
    'record written',
    async () =>
      (await dbRows<Record<string, unknown>>(dbUrl, 'SELECT * FROM call_records WHERE caller = $1', [caller]))[0],
    15_000,
  );
  t.match(row, { served_by: 'controller', end_reason: 'hangup', hangup_side: 'citizen', did: '12345' });
});
