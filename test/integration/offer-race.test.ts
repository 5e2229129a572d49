// An agent the router reserved for a call is never left reserved once the call is gone: the
// router's match reserves the agent in Redis before the offer runs on the call's serial queue,
// so a hang-up queued first (the offer task is then dropped), a controller that dies between
// the match and the offer, or an offer that never came for any other reason must all end with
// the agent free again and the caller (if still there) back at their place. The match is made
// here with the router's own Lua, atomically with the agent becoming ready, exactly as the
// controller's would be, so each race is reproduced on purpose rather than by luck.
import t from 'tap';

import { Router } from '../../src/acd/router.js';
import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { agentApi } from '../helpers/agent-api.js';
import { ControllerProcess } from '../helpers/controller.js';
import { openEventStream } from '../helpers/events.js';
import { streamEntries, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('offer-race', 61, [
    { id: 'o1', skills: { general: 5 }, scenario: 'agent-answers.xml' },
    { id: 'o2', skills: { general: 5 }, scenario: 'agent-answers.xml' },
  ]);
  new Router(acdLab.lab.redis, acdLab.lab.prefix); // defines the router's Lua commands on the lab's connection
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

const { agent, agentState, freshAgents } = agentApi(() => controller, ['o1', 'o2']);

/**
 * The agent becomes ready and the router matches them to the waiting caller in one Redis
 * transaction, as the controller `me` would: no controller can route in between, and the
 * offer that should follow never runs.
 */
async function matchWithoutOffer(
  agentId: string,
  me: string,
  callId: string,
): Promise<{ callId: string; agentId: string } | undefined> {
  const lua = acdLab.lab.redis.multi() as unknown as Record<string, (...args: Array<string | number>) => unknown> & {
    exec(): Promise<Array<[Error | null, unknown]>>;
  };
  const now = Date.now();
  // Each script is given every key it touches (router-scripts.ts), as the router would pass them.
  const p = acdLab.lab.prefix;
  const agentKeys = [`${p}:agent:${agentId}`, `${p}:ready:general`, `${p}:logged-in:general`];
  const stateKeys = [...agentKeys, `${p}:wrap-up`, `${p}:agent-events`];
  lua.rexianSetAgentState!(stateKeys.length, ...stateKeys, p, agentId, 'ready', '', now, '', 'not-ready', '', '');
  const matchKeys = [
    `${p}:queue:general:waiting`,
    `${p}:agent-events`,
    ...agentKeys,
    `${p}:qcall:${callId}`,
    `${p}:offer:${callId}`,
  ];
  // One request: the queue, its skills, its callers predicted late (none).
  lua.rexianMatch!(matchKeys.length, ...matchKeys, p, now, me, 1, 'general', 'general', '');
  const replies = await lua.exec();
  const match = replies[1]?.[1] as string[] | null;
  return match?.[0] === 'match' ? { callId: match[1]!, agentId: match[3]! } : undefined;
}

async function owner(callId: string): Promise<string> {
  return (await acdLab.lab.redis.hget(`${acdLab.lab.prefix}:qcall:${callId}`, 'owner')) ?? '';
}

t.test('a caller who hangs up between the match and the offer leaves the agent ready, and told so', async (t) => {
  await freshAgents();
  const stream = await openEventStream(acdLab.lab.ports.controller, {
    authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}`,
  });
  t.teardown(() => stream.ws?.close());
  await agent(t, 'o1', 'login'); // logged in, not ready: the caller waits
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000611' });
  const queued = await c.log(LogEvent.callQueued);
  const match = await matchWithoutOffer('o1', await owner(queued.callId!), queued.callId!);
  t.same(match, { callId: queued.callId, agentId: 'o1' }, 'the router reserved o1 for the caller');
  t.equal(await agentState('o1'), 'reserved');
  await acdLab.lab.ari('DELETE', `/channels/${queued.channelId}`); // the citizen hangs up
  await controller.waitForEvent(LogEvent.callEnded, (l) => l.callId === queued.callId, 10_000);
  await until('o1 free again', async () => (await agentState('o1')) === 'ready', 5_000).catch(() => undefined);
  t.equal(await agentState('o1'), 'ready', 'the agent is not left reserved for a call that is gone');
  t.equal(await acdLab.lab.redis.exists(`${acdLab.lab.prefix}:offer:${queued.callId}`), 0, 'the offer is withdrawn');
  t.same(
    await acdLab.lab.redis.zrange(`${acdLab.lab.prefix}:queue:general:waiting`, 0, -1),
    [],
    'and the caller is not put back in the queue',
  );
  const told = await until(
    'agent.state sent',
    () =>
      stream.messages.find(
        (m) => m.type === 'agent.state' && m.agentId === 'o1' && m.state === 'ready' && m.previous === 'reserved',
      ),
    5_000,
  ).catch(() => undefined);
  t.match(told, { callId: queued.callId }, "the agent's page is sent the change");
  await c.sipp.done;
});

t.test(
  'a controller that dies between the match and the offer: the next one offers the caller, and the agent is not stuck',
  async (t) => {
    await freshAgents();
    await agent(t, 'o1', 'login');
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000612', hangUpAfterMs: 30_000 });
    const queued = await c.log(LogEvent.callQueued);
    const me = await owner(queued.callId!);
    t.equal(await controller.kill('SIGKILL'), null, 'the controller died of SIGKILL');
    t.same(
      await matchWithoutOffer('o1', me, queued.callId!),
      { callId: queued.callId, agentId: 'o1' },
      'it had just reserved o1 for the caller',
    );
    controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
    await controller.waitReady(15_000);
    const connected = await controller
      .waitForEvent(LogEvent.callConnectedToAgent, (l) => l.callId === queued.callId, 15_000)
      .catch(() => undefined);
    t.equal(connected?.agentId, 'o1', 'the caller is offered again and connected, and the agent is not left reserved');
    await c.sipp.done;
  },
);

t.test('a reservation for a call that is live nowhere is swept by the tick', async (t) => {
  await freshAgents();
  const { redis, prefix } = acdLab.lab;
  await agent(t, 'o2', 'login', { ready: true });
  const before = (await streamEntries(redis, `${prefix}:agent-events`)).length;
  // As a controller that died after its match leaves it, its caller gone since: no call, no
  // queue entry, only the agent reserved for it (a minute ago).
  await redis
    .multi()
    .zrem(`${prefix}:ready:general`, 'o2')
    .hset(
      `${prefix}:agent:o2`,
      'state',
      'reserved',
      'since',
      String(Date.now() - 60_000),
      'call',
      'gone-call',
      'reason',
      '',
    )
    .hset(
      `${prefix}:offer:gone-call`,
      'agent',
      'o2',
      'queue',
      'general',
      'score',
      '1',
      'at',
      String(Date.now() - 60_000),
    )
    .exec();
  await until('o2 swept back to ready', async () => (await agentState('o2')) === 'ready', 10_000).catch(
    () => undefined,
  );
  t.equal(await agentState('o2'), 'ready', 'the agent is free again');
  t.equal(
    await redis.zscore(`${prefix}:queue:general:waiting`, 'gone-call'),
    null,
    'the gone call is not put in the queue',
  );
  const changes = (await streamEntries(redis, `${prefix}:agent-events`)).slice(before).filter((e) => e.agent === 'o2');
  t.match(changes, [{ state: 'ready', previous: 'reserved' }], 'as a state change of its own');
});
