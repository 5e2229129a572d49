// What an agent does during a call, proved with sound: on hold the citizen hears music and
// not the agent; resumed, they hear the agent again; the agent can end the call.
import t from 'tap';
import { ControllerProcess } from '../helpers/controller.js';
import { citizen, startAcdLab, type AcdLab } from '../helpers/acd-lab.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agentSpeakingScenario, listen, testApp, type ProbeApp } from '../helpers/audio.js';
import { until } from '../helpers/lab.js';
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

t.test('on hold the citizen hears music and not the agent; resumed, the agent again; the agent ends the call', async (t) => {
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000111' });
  const connected = await c.log('call connected to agent');
  const callId = connected.callId as string;

  const talking = await listen(acdLab.lab, probe, callId, 'talk-1', 2500, 1004);
  t.ok(talking.toneWindows > 0.7, `while talking the citizen hears the agent (${Math.round(talking.toneWindows * 100)}% of windows carry the tone)`);

  const hold = await controller.api('POST', '/api/agents/h1/call/hold');
  t.equal(hold.status, 200);
  t.match(hold.body, { callId, held: true });
  const held = await listen(acdLab.lab, probe, callId, 'held-1', 2500, 1004);
  t.ok(held.toneWindows < 0.1, `on hold the agent is not heard (${Math.round(held.toneWindows * 100)}% tone windows)`);
  t.ok(held.rms > 200, `on hold there is music, not silence (rms ${Math.round(held.rms)})`);
  t.match((await controller.api('GET', '/api/agents/h1')).body, { state: 'on-call', callId }, 'the agent is still on the call');

  t.equal((await controller.api('POST', '/api/agents/h1/call/resume')).status, 200);
  const back = await listen(acdLab.lab, probe, callId, 'talk-2', 2500, 1004);
  t.ok(back.toneWindows > 0.7, `resumed, the agent is heard again (${Math.round(back.toneWindows * 100)}%)`);

  t.equal((await controller.api('POST', '/api/agents/h1/call/hangup')).status, 200);
  t.equal((await c.sipp.done).exitCode, 0, 'the citizen was hung up on normally');
  await controller.waitForLog('wrap-up', (l) => l.msg === 'agent in wrap-up' && l.agentId === 'h1', 10_000);
});

t.test('emergency hand-off: 120 is called on the emergency trunk with the citizen\'s number, joins all three, is recorded and kept', async (t) => {
  await controller.api('POST', '/api/agents/h1/end-wrap-up');
  await controller.api('POST', '/api/agents/h1/ready');
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000121' });
  const { callId } = await c.log('call connected to agent');
  const forged = await controller.api('POST', '/api/agents/h1/call/emergency', { number: '120&PJSIP/agent-h1' });
  t.equal(forged.status, 400, 'a forged number is refused');
  t.match(forged.body, { error: { code: 'REXIAN_BAD_DIAL_STRING', details: { field: 'number' } } });
  t.equal((await controller.api('POST', '/api/agents/h1/call/emergency', { number: '112' })).status, 400, 'and so is a number that is no Chinese emergency line');

  // The emergency centre: the lab's emergency trunk points at this SIPp phone.
  const centre = runSipp({ scenario: 'agent-answers.xml', localPort: acdLab.lab.ports.sipp + 9, mediaPort: acdLab.lab.ports.sippMedia + 90, timeoutSec: 60 });
  const res = await controller.api<{ emergencyChannel: string; recording: string }>('POST', '/api/agents/h1/call/emergency', { number: '120' });
  t.equal(res.status, 200);
  await c.log('emergency line joined the call', 15_000);
  const bridge = await acdLab.lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
  t.equal(bridge.body.channels.length, 3, 'citizen, agent and 120 in one bridge');
  const heard = await listen(acdLab.lab, probe, res.body.emergencyChannel, 'centre-hears', 2000, 1004);
  t.ok(heard.toneWindows > 0.7, `120 hears the agent (${Math.round(heard.toneWindows * 100)}%)`);

  t.equal((await controller.api('POST', '/api/agents/h1/call/hangup')).status, 200, 'the agent leaves');
  await c.log('agent left; the citizen stays with the emergency line');
  const after = await acdLab.lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
  t.same(after.body.channels.sort(), [callId, res.body.emergencyChannel].sort(), 'the citizen stays with 120');

  await acdLab.lab.ari('DELETE', `/channels/${res.body.emergencyChannel}`); // 120 hangs up
  t.equal((await c.sipp.done).exitCode, 0, 'then the citizen is hung up on');
  const seen = await centre.done;
  const invite = seen.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'));
  t.match(startLine(invite?.text ?? ''), /^INVITE sip:120@/, 'the emergency trunk was asked for 120');
  t.match(invite?.text ?? '', /From:[^\n]*13800000121/, 'presenting the citizen\'s number, so 120 can call back');
  const file = join(acdLab.lab.asterisk.hostDir, 'spool/recording', `${res.body.recording}.wav`);
  await until('emergency recording written', () => existsSync(file) && statSync(file).size > 8000, 10_000);
  const events = await acdLab.lab.redis.xrange(`${acdLab.lab.prefix}:emergency-events`, '-', '+');
  t.match(Object.fromEntries(Array.from({ length: events[0]![1].length / 2 }, (_, i) => [events[0]![1][2 * i], events[0]![1][2 * i + 1]])), { callId, agentId: 'h1', number: '120', caller: '13800000121' }, 'kept as an emergency event with the agent and the time');
});
