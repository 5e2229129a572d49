// Two controllers for one Asterisk: the active one holds the ARI lease, the other stands by
// serving HTTP. kill -9 the active while a citizen talks to an agent, another waits in the
// queue with music and a third listens to the IVR: the standby takes ARI within 5 s and every
// call goes on; the killed one, started again, stands by and leaves ARI to the new holder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { holdingBridge } from '../../src/asterisk/ids.js';
import { asteriskScope } from '../../src/calls/store.js';
import { LogEvent } from '../../src/events/log-events.js';
import { ariLeaseKey } from '../../src/ha/ari-lease.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { dbRows, labPorts, sleep, until } from '../helpers/lab.js';
import { startLine } from '../helpers/sipp.js';

// The IVR caller's line: the 7 s welcome, then the main menu, where 2 says goodbye and hangs up
// (the other keys the prompt names just hang up).
const ivrFlow = `id: pair-ivr
numbers: ["12345"]
start: greeting
nodes:
  greeting: { type: play, prompt: welcome, next: menu }
  menu:
    type: menu
    prompt: main-menu
    options: { "1": timeout, "2": bye, "3": timeout, "9": timeout, "0": timeout }
    timeout: 10
    retries: 0
    noInput: { next: timeout }
    invalid: { next: timeout }
  bye: { type: hangup, prompt: goodbye }
  timeout: { type: hangup }
`;

let acdLab: AcdLab;
let first: ControllerProcess; // active at the start, killed, then started again (standby)
let second: ControllerProcess; // standby at the start, then active
const secondPort = labPorts(25).controller;

t.before(async () => {
  acdLab = await startAcdLab('pair', 24, [
    { id: 'p1', skills: { general: 5 }, scenario: 'agent-answers.xml' },
    { id: 'p2', skills: { general: 5 }, scenario: 'agent-answers.xml' },
  ]);
  writeFileSync(join(acdLab.dir, 'flows/pair-ivr.yaml'), ivrFlow);
});

t.teardown(async () => {
  await first?.kill('SIGKILL');
  await second?.kill('SIGKILL');
  await acdLab?.close();
});

async function health(c: ControllerProcess): Promise<{ role: string; ariHolder: string }> {
  const res = await fetch(`${c.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return (await res.json()) as { role: string; ariHolder: string };
}

/** Up, serving HTTP, and standing by (/readyz 503 with status standby). */
async function standingBy(c: ControllerProcess): Promise<void> {
  await until(
    'controller standing by',
    async () => {
      if (!c.running) throw new Error(`controller exited: ${c.stderr.join('\n')}`);
      const r = await c.readyz().catch(() => undefined);
      return r?.status === 503 && r.body.status === 'standby' && r.body.role === 'standby';
    },
    20_000,
  );
}

async function recordsOf(callId: string): Promise<Array<Record<string, unknown>>> {
  return dbRows(acdLab.lab.env.DATABASE_URL!, 'SELECT * FROM call_records WHERE call_id = $1', [callId]);
}

/** An action on a call, asked of a controller that does not hold it: it must reach the holder. */
async function forwardedFrom(c: ControllerProcess, callId: string): Promise<{ status: number; line: LogLine }> {
  const from = c.logs.length;
  const res = await c.api('DELETE', `/api/calls/${callId}/supervise`);
  const line = await c.waitForEvent(LogEvent.requestForwarded, undefined, 5_000, from);
  return { status: res.status, line };
}

t.test(
  'kill -9 the active controller: its standby takes ARI within 5 s, the talking, waiting and IVR calls go on, ' +
    'and the killed one comes back as the standby',
  async (t) => {
    const { lab } = acdLab;
    first = new ControllerProcess(lab.env, lab.ports.controller).start();
    await first.waitReady();
    second = new ControllerProcess({ ...lab.env, REXIAN_HTTP_PORT: String(secondPort) }, secondPort).start();
    await standingBy(second);
    const [h1, h2] = [await health(first), await health(second)];
    t.equal(h1.role, 'active', 'the first controller holds ARI');
    t.equal(h2.role, 'standby', 'the second stands by');
    const firstId = h1.ariHolder;
    t.equal(h2.ariHolder, firstId, 'and knows who holds ARI');
    const standbyReady = await second.readyz();
    t.equal(standbyReady.status, 503, '/readyz of the standby: it cannot take calls');
    t.equal(standbyReady.body.status, 'standby', 'and it says standby');
    const metrics = await (
      await fetch(`${second.url}/metrics`, { headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` } })
    ).text();
    t.match(metrics, /rexian_controller_role\{role="standby"\} 1/, '/metrics of the standby says standby');
    const leaseKey = ariLeaseKey(lab.prefix, asteriskScope(lab.env.REXIAN_ARI_URL!), lab.env.REXIAN_ARI_APP!);
    t.equal(await lab.redis.get(leaseKey), firstId, 'the lease names the active controller');

    // p1 takes the talking call; p2 is logged in but not ready, so the second caller waits.
    t.equal((await first.api('POST', '/api/agents/p1/login', { ready: true })).status, 200, 'p1 is ready');
    t.equal((await second.api('POST', '/api/agents/p2/login', {})).status, 200, 'the standby serves the API too');
    const talking = citizen(lab, first, { did: '7001', caller: '13800000601', hangUpAfterMs: 40_000 });
    const connected = await talking.log(LogEvent.callConnectedToAgent);
    t.equal(connected.agentId, 'p1', 'the first caller talks to p1');
    const waiting = citizen(lab, first, { did: '7001', caller: '13800000602', hangUpAfterMs: 45_000 });
    const queued = await waiting.log(LogEvent.callQueued);
    const ivr = citizen(lab, first, {
      did: '12345',
      caller: '13800000603',
      steps: [{ pauseMs: 13_000 }, { key: '2' }],
    });
    const greeting = await ivr.log(LogEvent.promptPlaying, 30_000, (l) => l.node === 'greeting');

    const before = await forwardedFrom(second, connected.callId!);
    t.equal(before.line.controller, firstId, 'the standby forwards an action on a call to the active controller');
    t.not(before.status, 503, `and answers with the holder's answer (${before.status})`);

    await sleep(1_000); // inside the 7 s welcome
    const killedAt = Date.now();
    t.equal(await first.kill('SIGKILL'), null, 'the active controller died of SIGKILL');
    const taken = await second.waitForEvent(LogEvent.leaseTaken, undefined, 10_000);
    await until(
      'the standby is ready as the active controller',
      async () => {
        const r = await second.readyz().catch(() => undefined);
        return r?.status === 200 && r.body.status === 'ready';
      },
      10_000,
      25,
    );
    const readyAt = Date.now();
    const takeoverMs = readyAt - killedAt;
    t.comment(
      `takeover: lease taken ${taken.time - killedAt} ms after the kill, ARI reconciled after ${takeoverMs} ms`,
    );
    t.ok(takeoverMs < 5_000, `the standby holds ARI within 5 s (${takeoverMs} ms)`);
    const secondId = (await health(second)).ariHolder;
    t.equal((await health(second)).role, 'active', 'the second controller is active now');
    t.not(secondId, firstId, 'under its own id');
    t.equal(await lab.redis.get(leaseKey), secondId, 'the lease names the new holder');

    // The calls are the new holder's now.
    const owner = async (callId: string): Promise<string | undefined> =>
      (JSON.parse((await lab.redis.get(`${lab.prefix}:call:${callId}`)) ?? '{}') as { owner?: string }).owner;
    for (const [what, callId] of [
      ['talking', connected.callId!],
      ['waiting', queued.callId!],
      ['IVR', greeting.callId!],
    ] as const)
      await until(`the ${what} call is owned by the new holder`, async () => (await owner(callId)) === secondId, 5_000);
    t.pass('the three calls are owned by the new holder');
    const held = await lab.ari<{ channels: string[] }>('GET', `/bridges/${holdingBridge('rexian', 'general')}`);
    t.ok(held.body.channels?.includes(queued.channelId!), 'the waiting caller is still in the holding bridge');

    // The waiting caller is answered once an agent is ready.
    t.equal((await second.api('POST', '/api/agents/p2/ready')).status, 200, 'p2 is ready');
    const answered = await waiting.log(LogEvent.callConnectedToAgent, 20_000, () => true, second);
    t.equal(answered.agentId, 'p2', 'the waiting caller is answered by p2 through the new holder');

    // The IVR caller goes on: the menu, then their key 2, then goodbye.
    await ivr.log(LogEvent.promptPlaying, 20_000, (l) => l.node === 'bye', second);
    const ivrResult = await ivr.sipp.done;
    t.equal(ivrResult.exitCode, 0, `the IVR caller's call completed normally ${ivrResult.errors}`);
    t.ok(
      ivrResult.messages.some((m) => m.direction === 'received' && startLine(m.text).startsWith('BYE')),
      'the hotline hung up after its goodbye',
    );

    // The killed controller comes back: it stands by and leaves ARI alone.
    const restartedAt = Date.now();
    first = new ControllerProcess(lab.env, lab.ports.controller).start();
    await standingBy(first);
    const standbyReadyMs = Date.now() - restartedAt;
    const back = await health(first);
    t.equal(back.role, 'standby', 'the restarted controller stands by');
    t.equal(back.ariHolder, secondId, 'and names the new holder');
    const after = await forwardedFrom(first, connected.callId!);
    t.equal(after.line.controller, secondId, 'an action on the talking call is forwarded to the new holder');
    t.not(after.status, 503, `and answered by it (${after.status})`);
    await sleep(6_000); // two lease lifetimes
    t.equal((await health(second)).role, 'active', 'the new holder keeps ARI');
    t.notOk(
      first.logs.some((l) => l.event === LogEvent.leaseTaken || l.event === LogEvent.ariConnected),
      'the restarted controller never connected to ARI',
    );
    t.notOk(
      second.logs.some((l) => l.event === LogEvent.ariClosed || l.event === LogEvent.leaseLost),
      'the new holder never lost ARI',
    );

    // The talking call went on until the citizen hung up, with one record.
    const talkResult = await talking.sipp.done;
    t.equal(talkResult.exitCode, 0, `the talking citizen's call completed normally ${talkResult.errors}`);
    const ended = await talking.log(LogEvent.callEnded, 15_000, () => true, second);
    t.ok(ended.time > killedAt, 'it ended after the takeover, on the new holder');
    const talkRecords = await until(
      'the talking call has its record',
      async () => ((await recordsOf(connected.callId!)).length > 0 ? recordsOf(connected.callId!) : undefined),
      15_000,
    );
    t.equal(talkRecords.length, 1, 'exactly one record for the talking call');
    t.match(talkRecords[0], { answered: true, agent_id: 'p1' });
    const waitResult = await waiting.sipp.done;
    t.equal(waitResult.exitCode, 0, `the waiting citizen's call completed normally ${waitResult.errors}`);
    const waitRecords = await until(
      'the waiting call has its record',
      async () => ((await recordsOf(queued.callId!)).length > 0 ? recordsOf(queued.callId!) : undefined),
      15_000,
    );
    t.equal(waitRecords.length, 1, 'exactly one record for the waiting call');
    t.match(waitRecords[0], { answered: true, agent_id: 'p2' });
    const ivrRecords = await until(
      'the IVR call has its record',
      async () => ((await recordsOf(greeting.callId!)).length > 0 ? recordsOf(greeting.callId!) : undefined),
      15_000,
    );
    t.equal(ivrRecords.length, 1, 'exactly one record for the IVR call');
    const offers = second.logs.filter((l) => l.event === LogEvent.callOffered && l.callId === queued.callId);
    t.equal(offers.length, 1, 'the waiting call was offered once');
    t.comment(
      `figures: calls placed 3, answered by an agent 2, IVR continued 1, ended by the fault 0, records ${
        talkRecords.length + waitRecords.length + ivrRecords.length
      }; takeover ${takeoverMs} ms (lease taken after ${taken.time - killedAt} ms); ` +
        `the restarted controller stood by ${standbyReadyMs} ms after its start`,
    );
  },
);
