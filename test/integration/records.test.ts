// Call records are never lost: they wait in the Redis outbox while PostgreSQL is down, are
// written once it is back, exactly once, even when the controller that read them crashed.
import t from 'tap';

import { maskNumber } from '../../src/calls/privacy.js';
import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, type Lab, startLab, until } from '../helpers/lab.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/postgres.js';
import { citizenScenario, runSipp } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;
let pg: PrivatePostgres;
let dbUrl: string;

t.before(async () => {
  lab = await startLab('records', 17);
  pg = startPrivatePostgres(lab.ports.controller + 50);
  dbUrl = pg.url('rexian');
  lab.env.DATABASE_URL = dbUrl;
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  pg?.destroy();
  await lab?.close();
});

let n = 0;
/** A citizen who dials 12345, listens a moment and hangs up. */
async function shortCall(): Promise<string> {
  const caller = `1390000${String(++n).padStart(4, '0')}`;
  const from = controller.logs.length;
  const sipp = runSipp({
    scenario: citizenScenario([], { hangUpAfterMs: 1500 }),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: '12345',
    localPort: lab.ports.sipp,
    mediaPort: lab.ports.sippMedia,
    keys: { caller },
    timeoutSec: 30,
  });
  const entered = await controller.waitForEvent(
    LogEvent.callEntered,
    (l) => l.caller === maskNumber(caller),
    15_000,
    from,
  );
  await sipp.done;
  await controller.waitForEvent(LogEvent.callEnded, (l) => l.callId === entered.callId, 10_000, from);
  return entered.callId as string;
}

const count = async (): Promise<number> =>
  Number((await dbRows<{ n: string }>(dbUrl, 'SELECT count(*) AS n FROM call_records'))[0]!.n);
const outboxLength = (): Promise<number> => lab.redis.xlen(`${lab.prefix}:records:outbox`);

t.test('a finished call is written to PostgreSQL with its line, flow and how it ended', async (t) => {
  const callId = await shortCall();
  await until('record written', async () => (await count()) === 1, 10_000);
  const [row] = await dbRows<Record<string, unknown>>(dbUrl, 'SELECT * FROM call_records WHERE call_id = $1', [callId]);
  t.match(row, {
    direction: 'inbound',
    did: '12345',
    line: '12345 政务服务便民热线',
    caller: '13900000001',
    end_reason: 'hangup',
    hangup_side: 'citizen',
    answered: false,
    flow_id: 'main-12345',
  });
  t.ok(
    Array.isArray(row!.ivr_path) && (row!.ivr_path as string[]).length > 0,
    `with the IVR path (${String(row!.ivr_path)})`,
  );
  t.equal(await outboxLength(), 0, 'and leaves the outbox');
});

t.test(
  'PostgreSQL down: records wait in the outbox, survive a controller crash, and are written once it is back',
  async (t) => {
    pg.stop();
    const during = [await shortCall(), await shortCall()];
    await controller.waitForEvent(LogEvent.recordsWaiting, (l) => l.side === 'postgres', 15_000);
    t.equal(await outboxLength(), 2, 'both records wait in the outbox');

    // The controller that read them dies before it could write them; a new one takes over.
    await controller.kill('SIGKILL');
    controller = new ControllerProcess(lab.env, lab.ports.controller).start();
    await controller.waitReady();
    const third = await shortCall();

    pg.start();
    await until('all records written', async () => (await count().catch(() => 0)) === 4, 30_000);
    const ids = (await dbRows<{ call_id: string }>(dbUrl, 'SELECT call_id FROM call_records')).map((r) => r.call_id);
    for (const id of [...during, third]) t.ok(ids.includes(id), `${id} written`);
    t.equal(new Set(ids).size, ids.length, 'none twice');
    await until('outbox drained', async () => (await outboxLength()) === 0, 10_000);
    const tookOver = await controller.waitForEvent(LogEvent.recordsTakenOver, undefined, 5_000).catch(() => null);
    t.ok(tookOver, "the new writer took over the dead one's records");
  },
);

t.test(
  'Prometheus metrics: connections, outbox, calls, agents and the event loop, for a token of role ops',
  async (t) => {
    t.equal((await fetch(`${controller.url}/metrics`)).status, 401, 'no token, no metrics');
    const res = await fetch(`${controller.url}/metrics`, {
      headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` },
    });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    t.match(text, /rexian_asterisk_connected\{interface="ari"\} 1/);
    t.match(text, /rexian_asterisk_connected\{interface="ami"\} 1/);
    t.match(text, /rexian_records_outbox 0/, 'the outbox is empty once PostgreSQL is back');
    t.match(text, /rexian_records_dead_letters 0/, 'and no record was set aside');
    t.match(text, /rexian_queue_waiting\{queue="general"\} 0/);
    t.match(text, /rexian_nodejs_eventloop_lag_seconds \d/, 'event-loop lag');
  },
);

t.test('the daily report over the calls just made, as JSON and CSV', async (t) => {
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const api = (path: string) =>
    fetch(`${controller.url}${path}`, { headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` } });
  const json = (await (await api(`/api/reports/daily?date=${today}&by=line`)).json()) as {
    total: { inbound: number; offered: number };
    rows: Array<{ key: string; inbound: number }>;
  };
  t.equal(json.total.inbound, 4, 'the four calls of this test');
  t.match(json.rows, [{ key: '12345 政务服务便民热线', inbound: 4 }]);
  const csv = await api(`/api/reports/daily?date=${today}&format=csv`);
  t.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  t.match(await csv.text(), /^total,4,/m);
  const bad = await api('/api/reports/daily?date=2026-13-01');
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { code: 'REXIAN_BAD_REQUEST', details: { field: 'date' } } });
});

t.test('the staffing report: the controller samples the agents logged in every minute', async (t) => {
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const res = await fetch(`${controller.url}/api/reports/staffing?date=${today}&queue=general`, {
    headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` },
  });
  t.equal(res.status, 200);
  const body = (await res.json()) as { rows: Array<{ loggedInAverage: number | null }> };
  const sampled = body.rows.filter((r) => r.loggedInAverage !== null);
  t.ok(sampled.length >= 1, 'the half hours the controller ran in are sampled');
  t.ok(
    sampled.every((r) => r.loggedInAverage === 0),
    'nobody logged in',
  );
  const unknown = await fetch(`${controller.url}/api/reports/staffing?date=${today}&queue=nosuch`, {
    headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` },
  });
  t.equal(unknown.status, 404, 'an unknown queue is named');
});
