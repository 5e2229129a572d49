// Redis under Sentinel: a master, one replica and three sentinels of the test's own (ports
// 26701-26713), one Asterisk and its controller connected through the sentinels, three SIPp
// agents and a stream of SIPp citizens. While calls flow the master is killed (kill -9) twice,
// the second time the node that took over: the controller carries on without a restart, no
// call is offered twice, no agent is given two calls, and every call has exactly one record in
// PostgreSQL (the outbox append waits for the replica: WAIT 1).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, type LabAgent, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { dbRows, sleep, streamEntries, until } from '../helpers/lab.js';
import { SentinelRedis } from '../helpers/sentinel.js';

const AGENTS = ['s1', 's2', 's3'];
const agents: LabAgent[] = AGENTS.map((id) => ({
  id,
  skills: { general: 5 },
  scenario: 'agent-answers-then-hangs-up.xml',
  talkMs: 2_000,
}));
const CALLS = 21;
const EVERY_MS = 1_300;

const sentinel = new SentinelRedis('rexian-it', { nodes: [26701, 26702], sentinels: [26711, 26712, 26713] });
let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  await sentinel.start();
  acdLab = await startAcdLab('sentinel', 26, agents);
  // The ARI lease must outlast a failover (down-after 1 s + election + reconnect): a holder
  // that cannot renew for a whole lease stops driving Asterisk, which is not what this tests.
  const configFile = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(configFile, 'ha:\n  leaseTtlMs: 10000\n  renewEveryMs: 1000\n');
  Object.assign(acdLab.lab.env, {
    REXIAN_CONFIG: configFile,
    REXIAN_REDIS_SENTINELS: sentinel.sentinelList,
    REXIAN_REDIS_MASTER_NAME: sentinel.name,
    REXIAN_REDIS_WAIT_REPLICAS: '1',
    REXIAN_REDIS_WAIT_TIMEOUT_MS: '500',
  });
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady(30_000);
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  await sentinel.stop();
});

/** What the master holds now (through the sentinels' answer, not the controller's). */
async function onMaster<T>(fn: (redis: ReturnType<SentinelRedis['node']>) => Promise<T>): Promise<T> {
  const redis = sentinel.node(await sentinel.masterPort());
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

t.test('calls flow through two failovers of the Redis master: nothing offered twice, nothing lost', async (t) => {
  for (const id of AGENTS)
    t.equal((await controller.api('POST', `/api/agents/${id}/login`, { ready: true })).status, 200);

  const citizens: Array<ReturnType<typeof citizen>> = [];
  const failovers: Array<{ how: string; from: number; to: number; ms: number; at: number }> = [];
  const placing = (async () => {
    for (let i = 0; i < CALLS; i++) {
      citizens.push(citizen(acdLab.lab, controller, { did: '7001', caller: `1390000${String(i).padStart(4, '0')}` }));
      await sleep(EVERY_MS);
    }
  })();
  const faults = (async () => {
    // kill -9 of the master, then of the one that took over once the first is back in sync.
    // (Not SENTINEL FAILOVER: it leaves the old master taking writes until the sentinels say
    // +switch-master, about a second, and those writes are lost; see the README.)
    for (const wait of [5, 5]) {
      await sleep(wait * EVERY_MS);
      const at = Date.now();
      const killed = await sentinel.killMaster();
      failovers.push({ how: 'kill -9 of the master', ...killed, at });
      // Back (empty, no persistence): the sentinels make it a replica of the new master, and the
      // records waiting for a replica (WAIT) are kept.
      await sleep(1_000);
      await sentinel.restartNode(killed.from);
    }
  })();
  await Promise.all([placing, faults]);

  const exits = await Promise.all(citizens.map(async (c) => (await c.sipp.done).exitCode));
  const answered = exits.filter((code) => code === 0).length;
  t.equal(answered, CALLS, 'every citizen was answered by an agent and hung up on normally');
  const callIds = await Promise.all(citizens.map(async (c) => (await c.entered).callId as string));

  t.ok(controller.running, 'the controller process is still running');
  t.equal(
    controller.logs.filter((l) => l.event === LogEvent.controllerListening).length,
    1,
    'it started once and never again',
  );
  t.notOk(
    controller.logs.some((l) => l.event === LogEvent.leaseLost),
    'it kept driving Asterisk through both failovers',
  );
  const reconnects = controller.logs.filter((l) => l.event === LogEvent.redisReconnected);
  t.ok(reconnects.length >= 2, `it reconnected to each new master by itself (${reconnects.length} reconnects)`);
  t.ok((await controller.readyz()).status === 200, 'and is ready');

  // Every finished call: exactly one record, with its agent.
  const records = await until(
    'a record for every call',
    async () => {
      const rows = await dbRows<{ call_id: string; answered: boolean; agent_id: string | null }>(
        acdLab.lab.env.DATABASE_URL!,
        'SELECT call_id, answered, agent_id FROM call_records WHERE call_id = ANY($1)',
        [callIds],
      );
      return rows.length === CALLS ? rows : undefined;
    },
    90_000,
  ).catch(() => undefined);
  const rows = await dbRows<{ call_id: string; n: string }>(
    acdLab.lab.env.DATABASE_URL!,
    'SELECT call_id, count(*) AS n FROM call_records GROUP BY call_id',
  );
  t.same(
    callIds.filter((id) => rows.filter((r) => r.call_id === id && r.n === '1').length !== 1),
    [],
    'every finished call has exactly one record',
  );
  t.equal(rows.length, CALLS, 'and there is no other record');
  t.ok(
    records?.every((r) => r.answered && AGENTS.includes(r.agent_id ?? '')),
    'each record says the call was answered, and by which agent',
  );

  // No call offered twice (the controller's log: an offer is one line).
  const mine = (l: LogLine): boolean => callIds.includes(String(l.callId));
  const offers = controller.logs.filter((l) => l.event === LogEvent.callOffered && mine(l));
  t.equal(offers.length, CALLS, 'one offer per call');
  t.equal(new Set(offers.map((l) => l.callId)).size, CALLS, 'no call offered twice');

  // No agent given two calls: per agent, each call is over for the agent (their leg hung up, or the
  // call ended) before the next is offered. Not the call's "call ended" alone: that line waits for
  // the record to be kept, which a failover delays while the agent, in wrap-up, is rightly free.
  const endedAt = new Map<string, number>();
  for (const l of controller.logs)
    if ((l.event === LogEvent.callEnded || l.event === LogEvent.agentHungUp) && mine(l))
      endedAt.set(String(l.callId), Math.min(endedAt.get(String(l.callId)) ?? Infinity, l.time));
  for (const id of AGENTS) {
    const theirs = offers.filter((l) => l.agentId === id).sort((a, b) => a.time - b.time);
    const overlapping = theirs.filter((l, i) => i > 0 && l.time < (endedAt.get(String(theirs[i - 1]!.callId)) ?? 0));
    t.same(
      overlapping.map((l) => l.callId),
      [],
      `${id} was offered a call only once its previous one had ended (${theirs.length} calls)`,
    );
  }
  // And the kept state log on the master now, as acd-two-controllers.test.ts reads it: between
  // two reservations of an agent, the agent was free again.
  const events = await onMaster((redis) => streamEntries(redis, `${acdLab.lab.prefix}:agent-events`));
  for (const id of AGENTS) {
    const states = events.filter((e) => e.agent === id).map((e) => e.state);
    let busy = false;
    let double = false;
    for (const s of states) {
      if (s === 'reserved') {
        if (busy) double = true;
        busy = true;
      }
      if (s === 'ready' || s === 'not-ready' || s === 'logged-out') busy = false;
    }
    t.notOk(double, `${id} was never reserved twice without being free between (agent-events on the master)`);
  }
  const reservedCalls = events.filter((e) => e.state === 'reserved' && callIds.includes(String(e.call)));
  t.equal(new Set(reservedCalls.map((e) => e.call)).size, reservedCalls.length, 'no call reserved twice');

  const reconnectMs = failovers.map((f) => {
    const line = reconnects.find((l) => l.time >= f.at);
    return line ? line.time - f.at : -1;
  });
  const retried = controller.logs.filter((l) => l.event === LogEvent.callRecordKeptLater).length;
  console.log(
    [
      `Redis under Sentinel: ${CALLS} calls placed, ${answered} answered, ${rows.length} records written`,
      ...failovers.map(
        (f, i) =>
          `  ${f.how}: master ${f.from} → ${f.to}, sentinels agreed in ${f.ms} ms, controller on the new master after ${reconnectMs[i]} ms`,
      ),
      `  records kept on a later try (no replica had them yet): ${retried}`,
    ].join('\n'),
  );
});
