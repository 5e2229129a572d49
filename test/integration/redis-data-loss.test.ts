// When Redis fails under the controller: a call whose end fails still leaves its record and
// no live state; one call that cannot be closed out at reconcile does not keep the controller
// from becoming ready (nor make it reconnect in a storm); and after Redis lost all its data
// the calls are rebuilt from Asterisk: waiting callers keep their order, a talking call keeps
// its agent, and nobody hears the greeting again.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { agentApi } from '../helpers/agent-api.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { dbRows, deleteKeys, sleep, streamEntries, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('redis-loss', 31, [
    { id: 'r1', skills: { general: 5 }, scenario: 'agent-answers.xml' },
    { id: 'r2', skills: { general: 5 }, scenario: 'agent-answers.xml' },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

const { agent, agentState, freshAgents } = agentApi(() => controller, ['r1', 'r2']);

async function record(callId: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return until(
    `record of ${callId}`,
    async () =>
      (
        await dbRows<Record<string, unknown>>(
          acdLab.lab.env.DATABASE_URL!,
          'SELECT * FROM call_records WHERE call_id = $1',
          [callId],
        )
      )[0],
    timeoutMs,
  );
}

async function liveState(callId: string): Promise<boolean> {
  const { redis, prefix } = acdLab.lab;
  return (
    (await redis.exists(`${prefix}:call:${callId}`)) === 1 ||
    (await redis.sismember(`${prefix}:calls:all`, callId)) === 1
  );
}

async function restart(): Promise<number> {
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  const startedAt = Date.now();
  await controller.waitReady(15_000);
  return Date.now() - startedAt;
}

t.test('a call whose end fails still leaves its record, and no live state', async (t) => {
  const callbacks = `${acdLab.lab.prefix}:callbacks`;
  t.teardown(() => acdLab.lab.redis.del(callbacks));
  await freshAgents();
  await agent(t, 'r1', 'login'); // logged in, not ready: the caller waits
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000201', hangUpAfterMs: 6_000 });
  const queued = await c.log(LogEvent.callQueued);
  // The abandon's callback task cannot be written (its stream's key holds a string): the
  // clean-up at the end of the call throws.
  await acdLab.lab.redis.set(callbacks, 'not a stream');
  await c.sipp.done;
  const row = await record(queued.callId!);
  t.match(
    row,
    { queue: 'general', abandoned: true, answered: false },
    'the record is kept, with what the clean-up did before and after the failure',
  );
  await until('live state gone', async () => !(await liveState(queued.callId!)), 5_000).catch(() => undefined);
  t.notOk(await liveState(queued.callId!), 'the live state is removed');
  t.equal(
    await acdLab.lab.redis.zscore(`${acdLab.lab.prefix}:queue:general:waiting`, queued.callId!),
    null,
    'the caller left the queue',
  );
});

t.test(
  'one call that cannot be closed out at reconcile does not keep the controller from becoming ready',
  async (t) => {
    const { redis, prefix } = acdLab.lab;
    await freshAgents();
    await agent(t, 'r1', 'login', { ready: true });
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000202', hangUpAfterMs: 6_000 });
    const connected = await c.log(LogEvent.callConnectedToAgent);
    t.equal(connected.agentId, 'r1');
    t.equal(await controller.kill('SIGKILL'), null, 'the controller died of SIGKILL');
    // While no controller runs: the call's queue is removed from the file (its saved state names
    // a queue that no longer exists), and another call's saved state is unreadable.
    const key = `${prefix}:call:${connected.callId}`;
    const saved = JSON.parse((await redis.get(key))!) as { flow: { acd: Record<string, unknown> } };
    Object.assign(saved.flow.acd, { queue: 'gone', origin: 'gone' });
    await redis.set(key, JSON.stringify(saved));
    const [liveKey] = await redis.keys(`${prefix}:asterisk:*:calls:live`);
    await redis.multi().sadd(liveKey!, 'unreadable').set(`${prefix}:call:unreadable`, '{"callId": "unread').exec();
    t.teardown(() => redis.multi().srem(liveKey!, 'unreadable').del(`${prefix}:call:unreadable`).exec());
    await c.sipp.done; // the citizen hangs up while no controller runs

    const tookMs = await restart();
    t.ok(tookMs < 8_000, `ready ${tookMs} ms after start`);
    await sleep(3_000);
    t.equal(
      controller.logs.filter((l) => l.event === LogEvent.ariConnected).length,
      1,
      'one connect to ARI, no reconnect storm',
    );
    t.equal(controller.logs.filter((l) => l.event === LogEvent.callReconcileFailed).length, 0, 'no failed reconcile');
    t.equal((await controller.readyz()).status, 200, 'and it stays ready');
    t.ok(
      controller.logs.some((l) => l.callId === 'unreadable' && l.level >= 50),
      'the call that could not be read is logged, with its id',
    );
    const row = await record(connected.callId!);
    t.match(
      row,
      { answered: true, agent_id: 'r1', end_reason: 'ended-while-away' },
      'the call that ended while away has its record',
    );
    t.notOk(await liveState(connected.callId!), 'and no live state');
    await until('r1 out of the call', async () => ['ready', 'wrap-up'].includes(await agentState('r1')), 5_000);
    t.pass('its agent is not left on the call');
  },
);

t.test(
  'after Redis lost all its data, waiting callers keep their order, the talking call keeps its agent, nobody is greeted again',
  async (t) => {
    await freshAgents();
    await agent(t, 'r1', 'login', { ready: true });
    await agent(t, 'r2', 'login'); // logged in, not ready
    const talker = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000301', hangUpAfterMs: 30_000 });
    const talking = await talker.log(LogEvent.callConnectedToAgent);
    t.equal(talking.agentId, 'r1');
    const first = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000302', hangUpAfterMs: 22_000 });
    const firstQueued = await first.log(LogEvent.callQueued);
    await sleep(500);
    const second = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000303', hangUpAfterMs: 40_000 });
    const secondQueued = await second.log(LogEvent.callQueued);

    t.equal(await controller.kill('SIGKILL'), null, 'the controller died of SIGKILL');
    await deleteKeys(acdLab.lab.redis, acdLab.lab.prefix);
    t.equal((await acdLab.lab.redis.keys(`${acdLab.lab.prefix}:*`)).length, 0, 'Redis holds nothing of the lab');

    const tookMs = await restart();
    t.ok(tookMs < 8_000, `ready ${tookMs} ms after start`);
    await sleep(2_000);
    t.equal(
      controller.logs.filter((l) => l.event === LogEvent.ariConnected).length,
      1,
      'one connect to ARI, no reconnect storm',
    );
    t.equal(controller.logs.filter((l) => l.event === LogEvent.callReconcileFailed).length, 0, 'no failed reconcile');

    const callers = ['13800000301', '13800000302', '13800000303'];
    const greeted = (l: LogLine): boolean =>
      (l.event === LogEvent.callEntered && callers.includes(String(l.caller))) || l.event === LogEvent.flowStarted;
    t.same(
      controller.logs.filter(greeted),
      [],
      'no call entered again, no flow started: nobody hears the greeting again',
    );

    t.equal(
      (await acdLab.lab.ari<{ state: string }>('GET', `/channels/${talking.channelId}`)).status,
      200,
      'the talking citizen is still connected',
    );
    t.equal(
      await agentState('r1'),
      'on-call',
      'the talking agent is on-call again (the router offers them nothing else)',
    );
    t.match(
      (await controller.api('GET', '/api/agents/r2')).body,
      { state: 'logged-out', reason: 'state-lost' },
      "the other agent's lost state is reset to logged-out",
    );
    const changes = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:agent-events`);
    t.match(
      changes.filter((e) => e.agent === 'r2'),
      [{ state: 'logged-out', reason: 'state-lost' }],
      "as a state change of its own, which the agent's page is sent",
    );
    t.same(
      await acdLab.lab.redis.zrange(`${acdLab.lab.prefix}:queue:general:waiting`, 0, -1),
      [firstQueued.callId, secondQueued.callId],
      'the waiting callers are back in their queue in order of arrival',
    );

    await agent(t, 'r2', 'login', { ready: true });
    const offered = (): LogLine[] =>
      controller.logs.filter(
        (l) => l.event === LogEvent.callOffered && [firstQueued.callId, secondQueued.callId].includes(l.callId),
      );
    await until('first waiting caller offered', () => offered().length >= 1, 10_000);
    t.equal(offered()[0]!.callId, firstQueued.callId, 'the caller who arrived first is offered first');
    const firstConnected = await controller.waitForEvent(
      LogEvent.callConnectedToAgent,
      (l) => l.callId === firstQueued.callId,
      10_000,
    );
    t.equal(firstConnected.agentId, 'r2');
    await until('second waiting caller offered', () => offered().length >= 2, 30_000);
    t.equal(offered()[1]!.callId, secondQueued.callId, 'then the second');

    const talkerEnd = await controller.waitForEvent(LogEvent.callEnded, (l) => l.callId === talking.callId, 30_000);
    t.equal(talkerEnd.reason, 'hangup', 'the talking call ran on to its normal end, watched by the new controller');
    t.match(await record(talking.callId!), { answered: true, agent_id: 'r1' }, 'and left its record, with its agent');
    for (const c of [talker, first, second])
      t.equal((await c.sipp.done).exitCode, 0, 'every citizen finished their call normally');
    t.notOk(controller.logs.some(greeted), 'still nobody greeted again');
  },
);
