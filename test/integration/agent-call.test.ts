// What an agent does during a call, proved with sound: on hold the citizen hears music and
// not the agent; resumed, they hear the agent again; the agent can end the call.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { agentSpeakingScenario, listen, type ProbeApp, readWav, testApp, toneReport } from '../helpers/audio.js';
import { ControllerProcess } from '../helpers/controller.js';
import { openEventStream } from '../helpers/events.js';
import { dbRows, sleep, streamEntries, until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';
import { runSipp, startLine } from '../helpers/sipp.js';

let acdLab: AcdLab;
let controller: ControllerProcess;
let probe: ProbeApp;

t.before(async () => {
  // The agent's phone "speaks" a steady 1004 Hz tone: where it is heard, the agent is heard.
  acdLab = await startAcdLab('call', 11, [{ id: 'h1', skills: { general: 5 }, scenario: agentSpeakingScenario(1004) }]);
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  probe = await testApp(acdLab.lab);
});

t.teardown(async () => {
  probe?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

t.test('an agent who is not on a call cannot put anyone on hold', async (t) => {
  t.equal((await controller.api('POST', '/api/agents/h1/login', { ready: true })).status, 200);
  const res = await controller.api('POST', '/api/agents/h1/call/hold');
  t.equal(res.status, 409);
  t.match(res.body, { error: { code: 'REXIAN_AGENT_STATE' } });
});

t.test(
  'on hold the citizen hears music and not the agent; resumed, the agent again; the agent ends the call',
  async (t) => {
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000111' });
    const connected = await c.log(LogEvent.callConnectedToAgent);
    const callId = connected.callId as string;

    const talking = await listen(acdLab.lab, probe, callId, 'talk-1', 2500, 1004);
    t.ok(
      talking.toneWindows > 0.7,
      `while talking the citizen hears the agent (${Math.round(talking.toneWindows * 100)}% of windows carry the tone)`,
    );

    const hold = await controller.api('POST', '/api/agents/h1/call/hold');
    t.equal(hold.status, 200);
    t.match(hold.body, { callId, held: true });
    const held = await listen(acdLab.lab, probe, callId, 'held-1', 2500, 1004);
    t.ok(
      held.toneWindows < 0.1,
      `on hold the agent is not heard (${Math.round(held.toneWindows * 100)}% tone windows)`,
    );
    t.ok(held.rms > 200, `on hold there is music, not silence (rms ${Math.round(held.rms)})`);
    t.match(
      (await controller.api('GET', '/api/agents/h1')).body,
      { state: 'on-call', callId },
      'the agent is still on the call',
    );

    t.equal((await controller.api('POST', '/api/agents/h1/call/resume')).status, 200);
    const back = await listen(acdLab.lab, probe, callId, 'talk-2', 2500, 1004);
    t.ok(back.toneWindows > 0.7, `resumed, the agent is heard again (${Math.round(back.toneWindows * 100)}%)`);

    t.equal((await controller.api('POST', '/api/agents/h1/call/hangup')).status, 200);
    t.equal((await c.sipp.done).exitCode, 0, 'the citizen was hung up on normally');
    await controller.waitForEvent(LogEvent.agentInWrapUp, (l) => l.agentId === 'h1', 10_000);
  },
);

t.test(
  "emergency hand-off: 120 is called on the emergency trunk with the citizen's number, joins all three, is recorded and kept",
  async (t) => {
    await controller.api('POST', '/api/agents/h1/end-wrap-up');
    await controller.api('POST', '/api/agents/h1/ready');
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000121' });
    const { callId } = await c.log(LogEvent.callConnectedToAgent);
    const forged = await controller.api('POST', '/api/agents/h1/call/emergency', { number: '120&PJSIP/agent-h1' });
    t.equal(forged.status, 400, 'a forged number is refused');
    t.match(forged.body, { error: { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'number' } } });
    t.equal(
      (await controller.api('POST', '/api/agents/h1/call/emergency', { number: '112' })).status,
      400,
      'and so is a number that is no Chinese emergency line',
    );

    // The emergency centre: the lab's emergency trunk points at this SIPp phone.
    const centre = runSipp({
      scenario: 'agent-answers.xml',
      localPort: acdLab.lab.ports.sipp + 9,
      mediaPort: acdLab.lab.ports.sippMedia + 90,
      timeoutSec: 60,
    });
    const res = await controller.api<{ emergencyChannel: string; recording: string }>(
      'POST',
      '/api/agents/h1/call/emergency',
      { number: '120' },
    );
    t.equal(res.status, 200);
    await c.log(LogEvent.emergencyJoined, 15_000);
    const bridge = await acdLab.lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
    t.equal(bridge.body.channels.length, 3, 'citizen, agent and 120 in one bridge');
    const heard = await listen(acdLab.lab, probe, res.body.emergencyChannel, 'centre-hears', 2000, 1004);
    t.ok(heard.toneWindows > 0.7, `120 hears the agent (${Math.round(heard.toneWindows * 100)}%)`);

    t.equal((await controller.api('POST', '/api/agents/h1/call/hangup')).status, 200, 'the agent leaves');
    await c.log(LogEvent.agentLeftEmergency);
    const after = await acdLab.lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
    t.same(after.body.channels.sort(), [callId, res.body.emergencyChannel].sort(), 'the citizen stays with 120');

    await acdLab.lab.ari('DELETE', `/channels/${res.body.emergencyChannel}`); // 120 hangs up
    t.equal((await c.sipp.done).exitCode, 0, 'then the citizen is hung up on');
    const seen = await centre.done;
    const invite = seen.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
    t.match(startLine(invite?.text ?? ''), /^INVITE sip:120@/, 'the emergency trunk was asked for 120');
    t.match(invite?.text ?? '', /From:[^\n]*13800000121/, "presenting the citizen's number, so 120 can call back");
    const file = join(acdLab.lab.asterisk.hostDir, 'spool/recording', `${res.body.recording}.wav`);
    await until('emergency recording written', () => existsSync(file) && statSync(file).size > 8000, 10_000);
    const events = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:emergency-events`);
    t.match(
      events[0],
      { callId, agentId: 'h1', number: '120', caller: '13800000121' },
      'kept as an emergency event with the agent and the time',
    );
  },
);

const pct = (x: number): string => `${Math.round(x * 100)}%`;

async function readyAgain(): Promise<void> {
  await controller.api('POST', '/api/agents/h1/end-wrap-up');
  await controller.api('POST', '/api/agents/h1/ready');
}

t.test('mute: the citizen no longer hears the agent; unmuted, again', async (t) => {
  await readyAgain();
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000141' });
  const { callId } = await c.log(LogEvent.callConnectedToAgent);
  const muted = await controller.api('POST', '/api/agents/h1/call/mute');
  t.equal(muted.status, 200);
  t.match(muted.body, { callId, muted: true });
  const silent = await listen(acdLab.lab, probe, callId as string, 'muted-1', 2000, 1004);
  t.ok(silent.toneWindows < 0.1, `muted, the agent is not heard (${pct(silent.toneWindows)})`);
  t.equal((await controller.api('POST', '/api/agents/h1/call/unmute')).status, 200);
  const heard = await listen(acdLab.lab, probe, callId as string, 'unmuted-1', 2000, 1004);
  t.ok(heard.toneWindows > 0.7, `unmuted, heard again (${pct(heard.toneWindows)})`);
  t.equal((await controller.api('POST', '/api/agents/h1/call/hangup')).status, 200);
  await c.sipp.done;
});

t.test(
  'screen pop: line, IVR path and what was keyed in, wait; a caller who asked for privacy is masked on screen and on the phone',
  async (t) => {
    await readyAgain();
    const stream = await openEventStream(acdLab.lab.ports.controller, {
      authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}`,
    });
    t.teardown(() => stream.close());
    const open = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000151' });
    await open.log(LogEvent.callConnectedToAgent);
    const plain = await until('first screen pop', () => stream.messages.find((m) => m.type === 'agent.offer'), 5_000);
    t.match(plain, {
      agentId: 'h1',
      did: '7001',
      line: '7001',
      caller: '13800000151',
      callerMasked: false,
      privacy: false,
      ivrPath: ['route', 'normal'],
    });
    t.type(plain.waitSeconds, 'number');
    await controller.api('POST', '/api/agents/h1/call/hangup');
    await open.sipp.done;

    await readyAgain();
    const privateCall = citizen(acdLab.lab, controller, { did: '7008', caller: '13800000152' });
    const { callId } = await privateCall.log(LogEvent.callConnectedToAgent);
    const pop = await until(
      'private screen pop',
      () => stream.messages.find((m) => m.type === 'agent.offer' && m.did === '7008'),
      5_000,
    );
    t.match(pop, {
      caller: '138****0152',
      callerMasked: true,
      privacy: true,
      ivrPath: ['route', 'private', 'normal'],
      digits: { privacy: 'yes', topic: '不动产' },
    });
    t.notMatch(JSON.stringify(stream.messages), /13800000152/, 'the number appears in no event');
    const leg = await acdLab.lab.ari<{ caller: { name: string; number: string } }>('GET', `/channels/${callId}-a1`);
    t.equal(leg.body.caller.number, '7008', "the agent's phone shows the line, not the caller");
    t.match(leg.body.caller.name, /保密/);
    await controller.api('POST', '/api/agents/h1/call/hangup');
    await privateCall.sipp.done;
  },
);

t.test(
  'recording: made from the answer, paused while the citizen gives an ID number, listed and downloaded by call id',
  async (t) => {
    await readyAgain();
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000161' });
    const connected = await c.log(LogEvent.callConnectedToAgent);
    const callId = connected.callId as string;
    await c.log(LogEvent.recordingStarted);
    await sleep(2000);
    const pause = await controller.api('POST', '/api/agents/h1/call/recording/pause');
    t.equal(pause.status, 200);
    t.match(pause.body, { recording: `${callId}-talk`, paused: true });
    await sleep(3000);
    t.equal((await controller.api('POST', '/api/agents/h1/call/recording/resume')).status, 200);
    await sleep(2000);
    const talkMs = Date.now() - connected.time;
    await controller.api('POST', '/api/agents/h1/call/hangup');
    await c.sipp.done;

    const list = await controller.api<{
      recordings: Array<{ name: string; agentId: string; queue: string; kind: string; pauses: number; file: string }>;
    }>('GET', `/api/calls/${callId}/recordings`);
    t.equal(list.status, 200);
    t.match(list.body.recordings, [
      {
        name: `${callId}-talk`,
        agentId: 'h1',
        queue: 'general',
        kind: 'talk',
        pauses: 1,
        file: `/api/recordings/${callId}-talk`,
      },
    ]);
    t.equal(
      (await fetch(`${controller.url}/api/recordings/${callId}-talk`)).status,
      401,
      'nobody downloads without a token',
    );
    const res = await fetch(`${controller.url}/api/recordings/${callId}-talk`, {
      headers: { authorization: `Bearer ${acdLab.lab.env.REXIAN_ADMIN_TOKEN}` },
    });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type') ?? '', /audio|wav/);
    const file = join(scratchDir('downloads'), `${callId}.wav`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const samples = readWav(file);
    const seconds = samples.length / 8000;
    t.ok(
      seconds < talkMs / 1000 - 2,
      `the paused 3 s are not in the recording (${seconds.toFixed(1)} s of a ${(talkMs / 1000).toFixed(1)} s talk)`,
    );
    t.ok(seconds > 2.5, `the rest is (${seconds.toFixed(1)} s)`);
    t.ok(toneReport(samples, 1004).toneWindows > 0.6, "and it holds the agent's voice");
    t.equal((await controller.api('GET', '/api/recordings/no-such-recording')).status, 404);
  },
);

t.test('recording retention: once the period is over the file and its listing are gone', async (t) => {
  await readyAgain();
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000171' });
  const { callId } = await c.log(LogEvent.callConnectedToAgent);
  await c.log(LogEvent.recordingStarted);
  await sleep(1500);
  await controller.api('POST', '/api/agents/h1/call/hangup');
  await c.sipp.done;
  const file = join(acdLab.lab.asterisk.hostDir, 'spool/recording', `${callId}-talk.wav`);
  t.ok(existsSync(file), 'recorded');
  // The same controller, restarted with a retention of about three seconds.
  await controller.kill('SIGTERM');
  controller = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_RECORDING_RETENTION_DAYS: '0.00003', REXIAN_RECORDING_SWEEP_SECONDS: '1' },
    acdLab.lab.ports.controller,
  ).start();
  await controller.waitReady();
  await controller.waitForEvent(LogEvent.recordingRemoved, (l) => l.callId === callId, 15_000);
  t.notOk(existsSync(file), 'the file is removed');
  t.same(
    (await controller.api<{ recordings: unknown[] }>('GET', `/api/calls/${callId}/recordings`)).body.recordings,
    [],
    'and so is its listing',
  );
});

t.test('the records keep hold time, the emergency hand-off and the recordings', async (t) => {
  const rows = await until(
    'records written',
    async () => {
      const r = await dbRows<Record<string, unknown>>(acdLab.lab.env.DATABASE_URL!, 'SELECT * FROM call_records');
      return r.some((x) => x.caller === '13800000161') && r.some((x) => x.caller === '13800000121') ? r : undefined;
    },
    20_000,
  );
  const of = (caller: string) => rows.find((r) => r.caller === caller)!;
  t.ok(Number(of('13800000111').hold_ms) >= 2000, `hold time kept (${String(of('13800000111').hold_ms)} ms)`);
  t.match(of('13800000121'), { emergency: '120', answered: true, agent_id: 'h1' }, 'the emergency hand-off');
  t.same(
    [...(of('13800000121').recordings as string[])].sort(),
    [`${String(of('13800000121').call_id)}-emergency`, `${String(of('13800000121').call_id)}-talk`].sort(),
    'both recordings',
  );
  t.match(
    of('138****0152'),
    { caller_masked: true },
    'a caller who asked for privacy is marked, and only their masked number is kept',
  );
});
