// Every call that reaches the hotline leaves one record, those the dialplan fallback served
// while no controller was connected included: Asterisk keeps what happened (AstDB, written
// by the hangup handler) and the next controller writes it, marked served_by 'fallback',
// exactly once however many controllers start.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { observeAmi } from '../helpers/ami-observer.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, type Lab, sleep, startLab, until } from '../helpers/lab.js';
import { dialCitizen, runSipp } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess | undefined;

t.before(async () => {
  lab = await startLab('fallback-records', 44, {
    agents: [{ id: '1001', secret: 'lab-agent-secret', contact: 'sip:agent-1001@127.0.0.1:24472' }],
  });
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
});

const rows = (): Promise<Array<Record<string, unknown>>> =>
  dbRows<Record<string, unknown>>(lab.env.DATABASE_URL!, 'SELECT * FROM call_records ORDER BY started_at');

t.test(
  'a call app_queue served while no controller ran is recorded, marked fallback, once, when a controller starts',
  async (t) => {
    const ami = await observeAmi(lab);
    t.teardown(() => ami.close());
    // No controller has ever connected: Stasis() fails and the dialplan fallback takes the call.
    const agent = runSipp({
      scenario: 'agent-answers.xml',
      localPort: lab.ports.sipp + 2,
      mediaPort: lab.ports.sippMedia + 20,
      timeoutSec: 40,
    });
    const citizen = dialCitizen(lab, {
      scenario: 'citizen-hangs-up-after-12s.xml',
      caller: '13700137001',
      timeoutSec: 40,
    });
    const joined = await ami.waitFor('caller joins the native queue', (e) => e.event === 'QueueCallerJoin');
    const connected = await ami.waitFor('agent connected', (e) => e.event === 'AgentConnect');
    const [c, a] = await Promise.all([citizen.done, agent.done]);
    const hungUpAt = Date.now();
    t.equal(c.exitCode, 0, `the citizen's call went through ${c.errors}`);
    t.equal(a.exitCode, 0, `the agent answered ${a.errors}`);
    await sleep(500);

    controller = new ControllerProcess(lab.env, lab.ports.controller).start();
    await controller.waitReady();
    const [row] = await until(
      'fallback record written',
      async () => {
        const r = await rows();
        return r.length > 0 ? r : undefined;
      },
      20_000,
    );
    t.match(
      row,
      {
        call_id: joined.uniqueid,
        served_by: 'fallback',
        direction: 'inbound',
        did: '12345',
        caller: '13700137001',
        queue: 'rexian-fallback',
        answered: true,
        agent_id: '1001',
        hangup_side: 'citizen',
        end_reason: 'hangup',
        abandoned: false,
      },
      'one row, with the line, the caller, the queue and the agent who answered',
    );
    const ended = new Date(row!.ended_at as string).getTime();
    t.ok(
      Math.abs(ended - hungUpAt) < 1500,
      `ended when the citizen hung up (${ended - hungUpAt} ms), not when the controller came`,
    );
    const answeredAt = new Date(row!.answered_at as string).getTime();
    t.ok(
      Math.abs(answeredAt - connected.receivedAt) < 1000,
      `answered when the agent connected (${answeredAt - connected.receivedAt} ms)`,
    );
    t.ok(
      Number(row!.talk_ms) > 1_000 && Math.abs(Number(row!.talk_ms) - (ended - answeredAt)) < 5,
      `talk ${String(row!.talk_ms)} ms: from the answer to the hang-up`,
    );
    t.ok(Number(row!.wait_ms) >= 0 && Number(row!.wait_ms) < 5_000, `wait ${String(row!.wait_ms)} ms`);
    t.ok(
      new Date(row!.started_at as string).getTime() < new Date(row!.entered_queue_at as string).getTime(),
      'the apology came before the queue',
    );

    // A second controller start (a restart, or another controller) reads Asterisk again: no second row.
    await controller.kill('SIGKILL');
    controller = new ControllerProcess(lab.env, lab.ports.controller).start();
    await controller.waitReady();
    await sleep(3_000);
    t.equal((await rows()).length, 1, 'starting again adds no row');
    const from = ami.events.length;
    await ami.action({ action: 'DBGetTree', family: 'rexian/fallback', actionid: 'fallback-left' });
    const complete = await ami.waitFor(
      'DBGetTree done',
      (e) => e.event === 'DBGetTreeComplete' && e.actionid === 'fallback-left',
      5_000,
      from,
    );
    t.equal(complete.listitems, '0', 'and Asterisk no longer keeps the call');
  },
);

t.test('a call a controller handles leaves no fallback row', async (t) => {
  const before = (await rows()).length;
  const citizen = dialCitizen(lab, {
    scenario: 'citizen-hangs-up-after-12s.xml',
    caller: '13700137002',
    timeoutSec: 40,
  });
  const entered = await controller!.waitForEvent(LogEvent.callEntered, undefined, 15_000);
  await citizen.done;
  const written = await until(
    'record written',
    async () => {
      const r = await rows();
      return r.length > before ? r : undefined;
    },
    15_000,
  );
  await sleep(2_000);
  const mine = (await rows()).filter((r) => r.call_id === entered.callId);
  t.equal(mine.length, 1, 'one row for the call');
  t.equal(mine[0]!.served_by, 'controller');
  t.equal((await rows()).length, written.length, 'and nothing else');
});
