// Redis flushed under a running controller: nothing reconnects, so only the store's sentinel
// (this switch's startup key, written at every reconcile) can tell. Within a few seconds the
// controller runs the same rebuild from Asterisk as after a reconnect, once: the waiting caller
// is back in their queue, the agents are told their state was lost, nobody hears the greeting
// again, and the caller is offered as soon as an agent is ready.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { deleteKeys, sleep, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('redis-flush-live', 62, [
    { id: 'f1', skills: { general: 5 }, scenario: 'agent-answers.xml' },
  ]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

const rebuilt = (l: LogLine): boolean => l.event === LogEvent.callsRebuildAfterRedisLoss;

t.test(
  'Redis flushed while the controller runs: the waiting caller is back in their queue within seconds and offered when an agent is ready',
  async (t) => {
    const { redis, prefix } = acdLab.lab;
    t.equal(
      (await controller.api('POST', '/api/agents/f1/login', {})).status,
      200,
      'f1 logged in, not ready: the caller waits',
    );
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000621', hangUpAfterMs: 40_000 });
    const queued = await c.log(LogEvent.callQueued);
    const waiting = (): Promise<string[]> => redis.zrange(`${prefix}:queue:general:waiting`, 0, -1);
    t.same(await waiting(), [queued.callId], 'the caller waits in the queue');

    const flushedAt = controller.logs.length;
    await deleteKeys(redis, prefix);
    t.same(await waiting(), [], 'Redis holds the queue no more');

    await until('caller back in the queue', async () => (await waiting()).includes(queued.callId!), 12_000).catch(
      () => undefined,
    );
    t.same(await waiting(), [queued.callId], 'the caller is back in their queue, without a reconnect');
    t.equal(controller.logs.filter((l) => l.event === LogEvent.ariConnected).length, 1, 'no reconnect to ARI');
    t.match(
      (await controller.api('GET', '/api/agents/f1')).body,
      { state: 'logged-out', reason: 'state-lost' },
      'the agent is told their state was lost',
    );

    await sleep(6_000); // past the next sentinel check: the rebuild wrote the sentinel again
    t.equal(controller.logs.slice(flushedAt).filter(rebuilt).length, 1, 'the rebuild ran once');
    const greeted = (l: LogLine): boolean =>
      (l.event === LogEvent.callEntered && l.callId === queued.callId) || l.event === LogEvent.flowStarted;
    t.same(controller.logs.slice(flushedAt).filter(greeted), [], 'nobody hears the greeting again');

    t.equal(
      (await controller.api('POST', '/api/agents/f1/login', { ready: true })).status,
      200,
      'f1 logs in again, ready',
    );
    const connected = await controller
      .waitForEvent(LogEvent.callConnectedToAgent, (l) => l.callId === queued.callId, 15_000, flushedAt)
      .catch(() => undefined);
    t.equal(connected?.agentId, 'f1', 'the caller is offered to the agent and connected');
    await c.sipp.done;
  },
);
