// The IVR on real Asterisk: SIPp citizens press RFC 2833 keys and reach the queue the
// shipped 12345 flow promises; lookups that hang time out; flow edits never disturb calls.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t, { type Test } from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import { LogEvent, type LogEventName } from '../../src/events/log-events.js';
import { tonePcap } from '../helpers/audio.js';
import { ControllerProcess, type LogLine } from '../helpers/controller.js';
import { type Lab, startLab, until } from '../helpers/lab.js';
import { citizenScenario, type CitizenStep, runSipp, startLine } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;
let flowsDir: string;
let hangingServer: Server;
const hangingPort = 20_690;
let sippPort = 0;

t.before(async () => {
  // A private copy of the shipped flows, so the tests can edit them; 12348 gets a lookup flow.
  flowsDir = mkdtempSync(join(tmpdir(), 'rexian-ivr-flows-'));
  cpSync(join(repoRoot, 'ivr-flows'), flowsDir, { recursive: true });
  rmSync(join(flowsDir, 'legacy-lines.yaml'));
  writeFileSync(
    join(flowsDir, 'lookup.yaml'),
    `id: lookup
numbers: ["12348"]
start: look
nodes:
  look: { type: http, url: "http://127.0.0.1:${hangingPort}/citizen?n=\${caller}", timeout: 1500, next: known, onError: general }
  known: { type: queue, queue: enterprise }
  general: { type: queue, queue: general }
`,
  );
  writeFileSync(
    join(flowsDir, 'voicemail.yaml'),
    `id: voicemail
numbers: ["12366"]
start: vm
nodes:
  vm: { type: voicemail, prompt: { text: 请留言，按井号键结束。 }, maxSeconds: 30, reason: after-hours, next: bye }
  bye: { type: hangup, prompt: message-recorded }
`,
  );
  // Accepts connections and never answers: the worst kind of external system.
  hangingServer = createServer(() => {}).listen(hangingPort, '127.0.0.1');
  lab = await startLab('ivr', 6, { flowsDir });
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  // Agents logged in (not ready) for every queue the menu reaches: callers then wait in the
  // queue instead of being turned away for want of anyone logged in.
  for (const id of ['1001', '1002', '2001']) {
    const res = await controller.api('POST', `/api/agents/${id}/login`, {});
    if (res.status !== 200) throw new Error(`login ${id}: ${JSON.stringify(res.body)}`);
  }
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
  hangingServer?.close();
  rmSync(flowsDir, { recursive: true, force: true });
});

/** Places one citizen call; returns its SIPp run and a way to find the controller's call id. */
function call(steps: CitizenStep[], hangUpAfterMs: number | 'wait-for-bye', service = '12345', caller = '13800138000') {
  const from = controller.logs.length;
  const localPort = lab.ports.sipp + (sippPort++ % 4);
  const sipp = runSipp({
    scenario: citizenScenario(steps, hangUpAfterMs === 'wait-for-bye' ? hangUpAfterMs : { hangUpAfterMs }),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service,
    localPort,
    mediaPort: lab.ports.sippMedia + 2 * (localPort - lab.ports.sipp) * 4,
    keys: { caller },
    timeoutSec: 120,
  });
  const entered = controller.waitForEvent(LogEvent.callEntered, (l) => l.did === service, 15_000, from);
  const log = async (
    event: LogEventName,
    timeoutMs = 30_000,
    extra: (l: LogLine) => boolean = () => true,
  ): Promise<LogLine> => {
    const { callId } = await entered;
    return controller.waitForEvent(event, (l) => l.callId === callId && extra(l), timeoutMs, from);
  };
  return { sipp, entered, log };
}

async function queuedAfterKeys(t: Test, keys: string, queue: string): Promise<LogLine> {
  const c = call([{ pauseMs: 1500 }, ...[...keys].map((key) => ({ key }))], 5_000);
  const queued = await c.log(LogEvent.callQueued);
  t.equal(queued.queue, queue, `keys ${keys} reach queue ${queue}`);
  const { callId } = await c.entered;
  t.ok(
    (await lab.redis.zrange(`${lab.prefix}:queue:${queue}:waiting`, 0, -1)).includes(callId as string),
    'the caller waits in that queue',
  );
  const result = await c.sipp.done;
  t.equal(result.exitCode, 0, `the citizen's call went normally ${result.errors}`);
  await c.log(LogEvent.flowEnded);
  t.notOk(
    (await lab.redis.zrange(`${lab.prefix}:queue:${queue}:waiting`, 0, -1)).includes(callId as string),
    'hanging up leaves the queue',
  );
  return queued;
}

t.test('a caller who presses 1 reaches the 一企来 enterprise queue', async (t) => {
  await queuedAfterKeys(t, '1', 'enterprise');
});
t.test('a caller who presses 2 reaches the 尚贤 talent queue', async (t) => {
  await queuedAfterKeys(t, '2', 'talent');
});
t.test('a caller who presses 0 reaches the general agents', async (t) => {
  await queuedAfterKeys(t, '0', 'general');
});

t.test('an invalid key replays the menu with an apology, and the next key counts', async (t) => {
  const c = call([{ pauseMs: 1500 }, { key: '7' }, { pauseMs: 1500 }, { key: '2' }], 4_000);
  const replay = await c.log(
    LogEvent.promptPlaying,
    15_000,
    (l) => JSON.stringify(l.prompts) === JSON.stringify(['invalid-key', 'main-menu']),
  );
  t.equal(replay.node, 'main-menu');
  const queued = await c.log(LogEvent.callQueued);
  t.equal(queued.queue, 'talent');
  t.same(
    (queued.path as string[]).slice(-3),
    ['main-menu', 'main-menu', 'talent'],
    'the path shows the menu offered twice',
  );
  t.equal((await c.sipp.done).exitCode, 0);
});

t.test('a caller who presses nothing reaches the general agents', async (t) => {
  const c = call([], 62_000);
  const queued = await c.log(LogEvent.callQueued, 70_000);
  t.equal(queued.queue, 'general');
  t.same(
    (queued.path as string[]).filter((n) => n !== 'holiday-notice'),
    ['greeting', 'holiday-check', 'main-menu', 'main-menu', 'general'],
  );
  t.equal((await c.sipp.done).exitCode, 0);
});

t.test('an http lookup whose server hangs moves on after its timeout', async (t) => {
  const c = call([], 5_000, '12348');
  const asked = await c.log(LogEvent.httpLookup);
  const answered = await c.log(LogEvent.httpLookupAnswered);
  t.equal(answered.ok, false);
  t.match(String(answered.error), /timeout after 1500 ms/);
  const waited = answered.time - asked.time;
  t.ok(waited >= 1400 && waited < 3000, `moved on after ${waited} ms`);
  t.equal((await c.log(LogEvent.callQueued)).queue, 'general', 'to the fallback target');
  t.equal((await c.sipp.done).exitCode, 0);
});

t.test('emergency: 9 then 1 hands the caller to 110 on the emergency trunk', async (t) => {
  const trunk = runSipp({
    scenario: 'agent-answers.xml',
    localPort: lab.ports.sipp + 5,
    mediaPort: lab.ports.sippMedia + 60,
    timeoutSec: 60,
  });
  const c = call([{ pauseMs: 1500 }, { key: '9' }, { pauseMs: 1000 }, { key: '1' }], 12_000);
  const transfer = await c.log(LogEvent.emergencyTransfer);
  t.equal(transfer.number, '110');
  t.equal(transfer.level, 40, 'logged as a warning-level emergency event');
  const result = await trunk.done;
  t.equal(result.exitCode, 0, `the emergency trunk answered ${result.errors}`);
  const invite = result.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.match(startLine(invite?.text ?? ''), /^INVITE sip:110@/, 'the trunk was asked for 110');
  t.equal((await c.sipp.done).exitCode, 0);
});

t.test('a voicemail ended with # is recorded and becomes a callback task', async (t) => {
  // The caller speaks (a tone: Asterisk's talk detection hears it); a silent one makes no task.
  const c = call(
    [{ pauseMs: 4000 }, { pcap: tonePcap(440, 4) }, { pauseMs: 5000 }, { key: '#' }],
    'wait-for-bye',
    '12366',
    '13500135000',
  );
  t.teardown(async () => {
    if (t.passing()) return;
    const { callId } = await c.entered;
    for (const l of controller.logs.filter((x) => x.callId === callId)) console.error(JSON.stringify(l).slice(0, 400));
    console.error(lab.asterisk.tailLog(30));
  });
  const recorded = await c.log(LogEvent.voicemailRecorded, 30_000);
  const { callId } = await c.entered;
  const tasks = await lab.redis.xrange(`${lab.prefix}:callbacks`, '-', '+');
  const task = tasks
    .map(([, fields]) =>
      Object.fromEntries(fields.reduce<string[][]>((acc, v, i) => (i % 2 ? acc : [...acc, [v, fields[i + 1]!]]), [])),
    )
    .find((f) => f.callId === callId);
  t.match(task, {
    callId,
    did: '12366',
    caller: '13500135000',
    reason: 'voicemail',
    recording: recorded.recording,
    flowId: 'voicemail',
  });
  const file = join(lab.asterisk.hostDir, 'spool/recording', `${String(recorded.recording)}.wav`);
  await until('recording on disk', () => existsSync(file), 5_000);
  const ended = await c.log(LogEvent.flowEnded, 30_000);
  t.match(ended.outcome, { type: 'voicemail', reason: 'after-hours' });
  t.equal((await c.sipp.done).exitCode, 0);
});

async function flowsStatus(): Promise<{ flows: Array<{ file: string; version: string; errors: string[] }> }> {
  const res = await fetch(`${controller.url}/api/flows`, {
    headers: { authorization: `Bearer ${lab.env.REXIAN_ADMIN_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`/api/flows answered ${res.status}`);
  return (await res.json()) as never;
}

t.test('a broken edit during a call disturbs neither that call nor the next', async (t) => {
  const file = join(flowsDir, 'main-12345.yaml');
  const good = readFileSync(file, 'utf8');
  const before = (await flowsStatus()).flows.find((f) => f.file === 'main-12345.yaml')!;
  const a = call([{ pauseMs: 5000 }, { key: '1' }], 4_000);
  await a.log(LogEvent.flowStarted);
  const from = controller.logs.length;
  writeFileSync(
    file,
    good.replace('"1": enterprise', '"1": enterprse').replace('options:', 'options:\n      "5": [broken'),
  );
  const rejected = await controller.waitForEvent(LogEvent.flowRejected, (l) => l.serving !== null, 10_000, from);
  t.equal(rejected.serving, before.version, 'the last good version keeps serving');
  const status = (await flowsStatus()).flows.find((f) => f.file === 'main-12345.yaml')!;
  t.equal(status.version, before.version);
  t.match(
    status.errors[0],
    /main-12345\.yaml:\d+:\d+: REXIAN_FLOW_SYNTAX/,
    'the API shows the error with its position',
  );

  t.equal((await a.log(LogEvent.callQueued)).queue, 'enterprise', 'the call in progress carried on');
  const b = call([{ pauseMs: 1500 }, { key: '2' }], 3_000);
  t.equal((await b.log(LogEvent.flowStarted)).flowVersion, before.version, 'the next call runs the last good version');
  t.equal((await b.log(LogEvent.callQueued)).queue, 'talent');
  await Promise.all([a.sipp.done, b.sipp.done]);
  writeFileSync(file, good);
  await until(
    'the repaired file shows no errors',
    async () => (await flowsStatus()).flows.find((f) => f.file === 'main-12345.yaml')!.errors.length === 0,
    10_000,
  );
});

t.test('a good edit is picked up without restart; a call keeps the version it started with', async (t) => {
  const file = join(flowsDir, 'main-12345.yaml');
  const good = readFileSync(file, 'utf8');
  const a = call([{ pauseMs: 5000 }, { key: '1' }], 4_000);
  const startedA = await a.log(LogEvent.flowStarted);
  const from = controller.logs.length;
  // Swap options 1 and 2 (replacing only one would leave a node unreachable: rejected).
  writeFileSync(
    file,
    good
      .replace('"1": enterprise', '"1": TALENT')
      .replace('"2": talent', '"2": enterprise')
      .replace('TALENT', 'talent'),
  );
  const swapped = await controller.waitForEvent(LogEvent.flowInService, (l) => l.flowId === 'main-12345', 10_000, from);
  t.not(swapped.version, startedA.flowVersion);
  const queuedA = await a.log(LogEvent.callQueued);
  t.equal(queuedA.queue, 'enterprise', 'the call that started before the edit keeps its version');
  t.equal(queuedA.flowVersion, startedA.flowVersion);
  const b = call([{ pauseMs: 1500 }, { key: '1' }], 3_000);
  t.equal((await b.log(LogEvent.flowStarted)).flowVersion, swapped.version);
  t.equal((await b.log(LogEvent.callQueued)).queue, 'talent', 'a new call runs the new version');
  await Promise.all([a.sipp.done, b.sipp.done]);
  writeFileSync(file, good);
});

t.test('flow status needs a token', async (t) => {
  const res = await fetch(`${controller.url}/api/flows`);
  t.equal(res.status, 401);
  t.same(((await res.json()) as { error: { code: string } }).error.code, 'REXIAN_UNAUTHORIZED');
  await until(
    'nothing left waiting',
    async () =>
      (await lab.redis.keys(`${lab.prefix}:queue:*:waiting`)).length === 0 &&
      (await lab.redis.keys(`${lab.prefix}:queue:*:since`)).length === 0,
    10_000,
  );
});
