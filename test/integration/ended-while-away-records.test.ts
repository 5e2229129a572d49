// A call that ends while no controller runs gets Asterisk's facts, not the time we noticed:
// the hangup handler keeps when the channel went away and who hung up, and the controller
// that closes the call out at reconcile takes them (ended_at, hangup side, wait and talk up
// to the real end).
import t, { type Test } from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, sleep, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('away', 45, [
    { id: 'w1', skills: { general: 1 }, scenario: 'none' },
    { id: 't1', skills: { general: 1 }, scenario: 'agent-answers.xml' },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

const recordOf = (caller: string) =>
  until(
    `record of ${caller}`,
    async () =>
      (
        await dbRows<Record<string, unknown>>(
          acdLab.lab.env.DATABASE_URL!,
          'SELECT * FROM call_records WHERE caller = $1',
          [caller],
        )
      )[0],
    20_000,
  );
const ms = (v: unknown): number => new Date(v as string).getTime();

/** Kills the controller, lets the citizen hang up while none runs, starts one 6 s later. */
async function hangUpWhileAway(t: Test, c: ReturnType<typeof citizen>): Promise<number> {
  await sleep(500);
  t.equal(await controller.kill('SIGKILL'), null, 'the controller died of SIGKILL');
  await c.sipp.done;
  const hungUpAt = Date.now();
  await sleep(6_000);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  return hungUpAt;
}

t.test(
  "a citizen who hangs up in the queue while no controller runs: ended_at, side and wait are Asterisk's",
  async (t) => {
    t.equal(
      (await controller.api('POST', '/api/agents/w1/login', {})).status,
      200,
      'an agent logged in, not ready: the citizen waits',
    );
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000201', hangUpAfterMs: 4_000 });
    await c.log(LogEvent.callQueued);
    const hungUpAt = await hangUpWhileAway(t, c);
    const row = await recordOf('13800000201');
    t.equal(row.end_reason, 'ended-while-away');
    t.ok(
      Math.abs(ms(row.ended_at) - hungUpAt) < 1_000,
      `ended_at is the hang-up (${ms(row.ended_at) - hungUpAt} ms off), not the restart 6 s later`,
    );
    t.equal(row.hangup_side, 'citizen', 'the citizen hung up, as Asterisk saw it');
    t.ok(
      Math.abs(Number(row.wait_ms) - (ms(row.ended_at) - ms(row.entered_queue_at))) < 5,
      `the wait (${String(row.wait_ms)} ms) ends at the hang-up`,
    );
    t.ok(Number(row.wait_ms) < 5_000, 'and excludes the time no controller ran');
    t.equal(row.answered, false);
    t.ok(
      controller.logs.some((l) => l.event === LogEvent.recordEndFromAsterisk && l.callId === row.call_id),
      'the controller says where the end came from',
    );
    await controller.api('POST', '/api/agents/w1/logout');
  },
);

t.test(
  'a citizen who hangs up talking to an agent while no controller runs: talk ends at the real hang-up',
  async (t) => {
    t.equal((await controller.api('POST', '/api/agents/t1/login', { ready: true })).status, 200);
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000202', hangUpAfterMs: 6_000 });
    await c.log(LogEvent.callConnectedToAgent, 20_000);
    const hungUpAt = await hangUpWhileAway(t, c);
    const row = await recordOf('13800000202');
    t.equal(row.answered, true);
    t.equal(row.agent_id, 't1');
    t.ok(
      Math.abs(ms(row.ended_at) - hungUpAt) < 1_000,
      `ended_at is the hang-up (${ms(row.ended_at) - hungUpAt} ms off)`,
    );
    t.equal(row.hangup_side, 'citizen');
    const talk = Number(row.talk_ms);
    t.ok(
      Math.abs(talk - (ms(row.ended_at) - ms(row.answered_at))) < 5,
      `talk (${talk} ms) runs from the answer to the hang-up`,
    );
    t.ok(talk < 6_500, 'the 6 s without a controller are not talk');
  },
);

t.test(
  'a citizen who hangs up on hold while no controller runs: the hold counts until the hang-up, and is not talk',
  async (t) => {
    await until(
      't1 ready again',
      async () => (await controller.api<{ state: string }>('GET', '/api/agents/t1')).body.state === 'ready',
      20_000,
    );
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000203', hangUpAfterMs: 7_000 });
    await c.log(LogEvent.callConnectedToAgent, 20_000);
    await sleep(1_000);
    const held = await controller.api('POST', '/api/agents/t1/call/hold');
    t.equal(held.status, 200, 'the agent put the citizen on hold');
    const heldAt = Date.now();
    const hungUpAt = await hangUpWhileAway(t, c);
    const row = await recordOf('13800000203');
    t.ok(
      Math.abs(ms(row.ended_at) - hungUpAt) < 1_000,
      `ended_at is the hang-up (${ms(row.ended_at) - hungUpAt} ms off)`,
    );
    t.equal(row.hangup_side, 'citizen');
    const hold = Number(row.hold_ms);
    t.ok(
      Math.abs(hold - (hungUpAt - heldAt)) < 1_000,
      `the running hold counts up to the hang-up (${hold} ms, ${hungUpAt - heldAt} ms on hold)`,
    );
    const handle = Number(row.talk_ms) + hold;
    t.ok(
      Math.abs(handle - (ms(row.ended_at) - ms(row.answered_at))) < 5,
      `talk + hold (${handle} ms) is the time from the answer to the hang-up`,
    );
  },
);
