// The outbound dialer against SIPp citizens on the public trunk: a busy citizen is tried
// again by rule and, answering, is connected to an agent; a number that does not exist is
// settled at once; abandoned calls become tasks; the pace holds; every attempt is recorded.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, streamEntries, until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';
import { runSipp, startLine } from '../helpers/sipp.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('dialer', 18, [{ id: 'd1', skills: { general: 5 }, scenario: 'agent-answers.xml' }]);
  controller = await startWith(`  hours: hotline\n  pacePerMinute: 30\n  ringSeconds: 5\n${retries(2, 1)}`);
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

/** The citizen's phone: the lab's public trunk ends at this SIPp. */
const phone = (scenario: string, calls = 1) =>
  runSipp({
    scenario,
    localPort: acdLab.lab.ports.sipp + 9,
    mediaPort: acdLab.lab.ports.sippMedia + 90,
    calls,
    timeoutSec: 60,
  });
const attempts = async (task: string) =>
  (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:dialer:attempts`)).filter((a) => a.task === task);

t.test('a return visit: busy, tried again by rule, answered, announced and connected to an agent', async (t) => {
  t.equal((await controller.api('POST', '/api/agents/d1/login', { ready: true })).status, 200);
  t.equal(
    (await controller.api('POST', '/api/callbacks', { number: '13800000301&PJSIP/x' })).status,
    400,
    'a forged number is refused',
  );
  const busy = phone('callee-busy.xml');
  const add = await controller.api<{ id: string; status: string }>('POST', '/api/callbacks', {
    number: '13800000301',
    caseId: 'A-2026-1122',
  });
  t.equal(add.status, 201);
  const task = add.body.id;
  const seen = await busy.done;
  const invite = seen.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.match(startLine(invite?.text ?? ''), /^INVITE sip:13800000301@/, "the citizen's number dialled on the trunk");
  t.match(invite?.text ?? '', /From:[^\n]*12345/, 'presenting 12345');
  const answering = phone('agent-answers.xml');
  const connected = await controller.waitForEvent(
    LogEvent.callConnectedToAgent,
    (l) => String(l.callId).startsWith(`dial-${task}-`),
    30_000,
  );
  t.equal(connected.agentId, 'd1', 'the citizen reached the agent');
  t.match(
    await attempts(task),
    [
      { disposition: 'busy', attempt: '1' },
      { disposition: 'reached', attempt: '2' },
    ],
    'busy, then reached on the second attempt',
  );
  t.match((await controller.api('GET', '/api/callbacks')).body, {
    tasks: [{ id: task, status: 'done', disposition: 'reached', attempts: 2, caseId: 'A-2026-1122' }],
  });
  t.equal((await controller.api('POST', '/api/agents/d1/call/hangup')).status, 200);
  await answering.done;
  const rows = await until(
    'records',
    async () => {
      const r = await dbRows<{
        call_id: string;
        direction: string;
        answered: boolean;
        end_reason: string;
        caller: string;
      }>(
        acdLab.lab.env.DATABASE_URL!,
        'SELECT call_id, direction, answered, end_reason, caller FROM call_records WHERE direction = $1 ORDER BY started_at',
        ['outbound'],
      );
      return r.length >= 2 ? r : undefined;
    },
    15_000,
  );
  t.match(
    rows,
    [
      { direction: 'outbound', answered: false, end_reason: 'busy', caller: '13800000301' },
      { direction: 'outbound', answered: true, caller: '13800000301' },
    ],
    'both attempts are outbound calls in the records',
  );
});

t.test('a number that does not exist is settled as a wrong number, not tried again; the pace holds', async (t) => {
  const gone = phone('callee-not-found.xml', 3);
  const ids: string[] = [];
  for (const n of ['13800000311', '13800000312', '13800000313'])
    ids.push((await controller.api<{ id: string }>('POST', '/api/callbacks', { number: n })).body.id);
  await gone.done;
  const settled = await until(
    'three settled',
    async () => {
      const all = await Promise.all(ids.map(attempts));
      return all.every((a) => a.length === 1) ? all.map((a) => a[0]!) : undefined;
    },
    20_000,
  );
  t.ok(
    settled.every((a) => a.disposition === 'wrong-number'),
    'each a wrong number',
  );
  const dialled = controller.logs
    .filter((l) => l.event === LogEvent.callbackDialling && ids.includes(String(l.task)))
    .map((l) => l.time);
  t.equal(dialled.length, 3, 'each dialled once');
  const gaps = dialled.slice(1).map((at, i) => at - dialled[i]!);
  t.ok(
    gaps.every((g) => g >= 1900),
    `30 a minute: at least 2 s apart (${gaps.join(', ')} ms)`,
  );
});

t.test('a caller who gives up in the queue is called back', async (t) => {
  await controller.api('POST', '/api/agents/d1/not-ready', { reason: 'break' });
  const answering = phone('agent-answers.xml');
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000321', hangUpAfterMs: 6000 });
  await c.log(LogEvent.callAbandoned, 20_000, (l) => l.short === false);
  const task = await controller.waitForEvent(LogEvent.callbackTaskCreated, (l) => l.reason === 'abandoned', 10_000);
  await controller.api('POST', '/api/agents/d1/ready');
  await controller.waitForEvent(
    LogEvent.callConnectedToAgent,
    (l) => String(l.callId).startsWith(`dial-${String(task.task)}-`),
    30_000,
  );
  t.pass('the abandoned caller was called back and reached an agent');
  await controller.api('POST', '/api/agents/d1/call/hangup');
  await answering.done;
});

t.test('a masked case is called back from its virtual number, not from 12345', async (t) => {
  const binding = await controller.api<{ id: string; x: string }>('POST', '/api/bindings', {
    a: '02388880001',
    b: '13800000351',
    caseId: 'M-7',
  });
  t.equal(binding.status, 201);
  const answering = phone('agent-answers.xml');
  const task = (
    await controller.api<{ id: string }>('POST', '/api/callbacks', {
      number: '13800000351',
      bindingId: binding.body.id,
    })
  ).body.id;
  await controller.waitForEvent(
    LogEvent.callConnectedToAgent,
    (l) => String(l.callId).startsWith(`dial-${task}-`),
    30_000,
  );
  await controller.api('POST', '/api/agents/d1/call/hangup');
  const invite =
    (await answering.done).messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'))
      ?.text ?? '';
  t.match(startLine(invite), /^INVITE sip:13800000351@/);
  t.match(invite, new RegExp(`From:[^\n]*${binding.body.x}`), 'the citizen sees the virtual number');
  t.notMatch(invite, /From:[^\n]*12345/, 'not 12345');
});

t.test(
  'a controller that dies while a callback rings: the next one settles it as reached when the citizen answers, and does not dial again',
  async (t) => {
    const dialer = `  hours: hotline\n  pacePerMinute: 60\n  ringSeconds: 20\n${retries(1, 1)}`;
    await restartWith(dialer);
    await controller.api('POST', '/api/agents/d1/end-wrap-up');
    await controller.api('POST', '/api/agents/d1/ready');
    // The citizen's phone rings for 8 s before it is picked up: long enough for the restart and
    // the takeover of the dead controller's ARI lease (about 3 s).
    const slow = join(scratchDir('dialer'), 'answers-after-8s.xml');
    writeFileSync(
      slow,
      readFileSync(join(repoRoot, 'test/sipp/agent-answers.xml'), 'utf8').replace(
        '<send retrans="500">',
        '<pause milliseconds="8000"/>\n  <send retrans="500">',
      ),
    );
    const answering = phone(slow);
    const task = (await controller.api<{ id: string }>('POST', '/api/callbacks', { number: '13800000361' })).body.id;
    await controller.waitForEvent(LogEvent.callbackDialling, (l) => l.task === task, 15_000);
    // The log line comes just before the originate: kill only once Asterisk has the channel
    // (killed earlier, nothing rang, and the stale-attempt sweep's case is another test's).
    await until(
      'the callback rings',
      async () => (await acdLab.lab.ari('GET', `/channels/dial-${task}-1`)).status === 200,
      10_000,
    );
    await controller.kill('SIGKILL');
    controller = await startWith(dialer);
    const settled = await controller
      .waitForEvent(LogEvent.callbackAnsweredEarlier, (l) => l.task === task, 20_000)
      .catch(() => null);
    t.ok(settled, 'the new controller settled the attempt it did not dial');
    await controller.waitForEvent(
      LogEvent.callConnectedToAgent,
      (l) => String(l.callId).startsWith(`dial-${task}-`),
      30_000,
    );
    await controller.api('POST', '/api/agents/d1/call/hangup');
    await answering.done;
    t.match(await attempts(task), [{ disposition: 'reached', attempt: '1' }], 'one attempt, reached');
    t.match(
      (await controller.api<{ tasks: Array<{ id: string }> }>('GET', '/api/callbacks')).body.tasks.find(
        (x) => x.id === task,
      ),
      { status: 'done', disposition: 'reached', attempts: 1 },
      'done: the citizen is not dialled again',
    );
  },
);

/** The retry rules: busy and no-answer tried again after 2 s, up to so many more times. */
function retries(busyMax: number, noAnswerMax: number): string {
  return `  retry:\n    busy: { max: ${busyMax}, afterSeconds: 2 }\n    noAnswer: { max: ${noAnswerMax}, afterSeconds: 2 }\n`;
}

/** A controller whose dialer is configured so (YAML lines under `dialer:`). */
async function startWith(dialer: string): Promise<ControllerProcess> {
  const config = join(scratchDir('dialer'), 'rexian.yaml');
  writeFileSync(config, `dialer:\n${dialer}`);
  const started = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_CONFIG: config, REXIAN_DIALER_ENABLED: 'true' },
    acdLab.lab.ports.controller,
  ).start();
  await started.waitReady();
  return started;
}

/** The controller again, with the dialer configured otherwise. */
async function restartWith(dialer: string): Promise<void> {
  await controller.kill('SIGTERM');
  controller = await startWith(dialer);
}

t.test(
  'agent first: the first free agent is rung, then the citizen; a citizen who does not answer is tried again',
  async (t) => {
    await restartWith(
      `  mode: agent-first\n  queue: general\n  hours: hotline\n  pacePerMinute: 60\n  ringSeconds: 5\n${retries(1, 1)}`,
    );
    await controller.api('POST', '/api/agents/d1/end-wrap-up');
    await controller.api('POST', '/api/agents/d1/ready');
    const busy = phone('callee-busy.xml');
    const task = (await controller.api<{ id: string }>('POST', '/api/callbacks', { number: '13800000331' })).body.id;
    const first = await controller.waitForEvent(
      LogEvent.queueCallbackRinging,
      (l) => String(l.originCallId).startsWith(`dial-${task}-`),
      15_000,
    );
    t.equal(first.agentId, 'd1', 'the agent is rung first');
    await busy.done;
    await controller.waitForEvent(
      LogEvent.callbackNotReached,
      (l) => l.task === task && l.disposition === 'busy',
      15_000,
    );
    const answering = phone('agent-answers.xml');
    await controller.waitForEvent(LogEvent.queueCallbackConnected, undefined, 30_000);
    const settled = await until(
      'reached recorded',
      async () => {
        const a = await attempts(task);
        return a.length === 2 ? a : undefined;
      },
      5_000,
    );
    t.match(settled, [{ disposition: 'busy' }, { disposition: 'reached' }], 'busy, then reached');
    await controller.api('POST', '/api/agents/d1/call/hangup');
    await answering.done;
  },
);

t.test("outside the dialer's hours nothing is dialled; the task waits", async (t) => {
  const closed = new Date(Date.now() + 8 * 3600_000).getUTCHours() < 12 ? 'afternoons' : 'mornings';
  await restartWith(`  hours: ${closed}\n  pacePerMinute: 60\n`);
  const task = (await controller.api<{ id: string }>('POST', '/api/callbacks', { number: '13800000341' })).body.id;
  await new Promise((r) => setTimeout(r, 4000));
  t.notOk(
    controller.logs.some((l) => l.event === LogEvent.callbackDialling && l.task === task),
    `not dialled while "${closed}" is closed`,
  );
  t.match(
    (
      await controller.api<{ tasks: Array<{ id: string; status: string; attempts: number }> }>('GET', '/api/callbacks')
    ).body.tasks.find((x) => x.id === task),
    { status: 'pending', attempts: 0 },
  );
});
