// What an agent does during a call, proved with sound: on hold the citizen hears music and
// not the agent; resumed, they hear the agent again; the agent can end the call.
import t from 'tap';
import { ControllerProcess } from '../helpers/controller.js';
import { citizen, startAcdLab, type AcdLab } from '../helpers/acd-lab.js';
import { agentSpeakingScenario, listen, testApp, type ProbeApp } from '../helpers/audio.js';

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
