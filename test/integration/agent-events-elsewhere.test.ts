// An agent's page on one controller hears the call events another controller makes: the screen
// pop, hold and back, mute and back (src/events/relay.ts). Real Asterisk, a SIPp
// citizen and a SIPp agent phone; the call is held by one controller, the agent's event stream
// is on the other (as in a province, where the call came in on another city's node).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ControllerProcess } from '../helpers/controller.js';
import { openEventStream } from '../helpers/events.js';
import { until } from '../helpers/lab.js';

const token = 'agent-e1-token-0123456789';
let acdLab: AcdLab;
let holder: ControllerProcess;
let elsewhere: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('events-elsewhere', 63, [
    { id: 'e1', skills: { general: 5 }, scenario: 'agent-answers.xml', team: 'a' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(config, `auth:\n  tokens:\n    - { name: 王芳, role: agent, agent: e1, token: ${token} }\n`);
  acdLab.lab.env.REXIAN_CONFIG = config;
  holder = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await holder.waitReady();
  // Another controller on the same Redis: its own ARI app on the same Asterisk, its own port.
  elsewhere = new ControllerProcess(
    {
      ...acdLab.lab.env,
      REXIAN_ARI_APP: 'rexian-elsewhere',
      REXIAN_HTTP_PORT: String(acdLab.lab.ports.controller + 1),
    },
    acdLab.lab.ports.controller + 1,
  ).start();
  await elsewhere.waitReady();
});

t.teardown(async () => {
  await elsewhere?.kill('SIGKILL');
  await holder?.kill('SIGKILL');
  await acdLab?.close();
});

t.test("the agent's page on another controller gets the offer, hold and mute, once each", async (t) => {
  const stream = await openEventStream(acdLab.lab.ports.controller + 1, { authorization: `Bearer ${token}` });
  const own = await openEventStream(acdLab.lab.ports.controller, { authorization: `Bearer ${token}` });
  t.teardown(() => {
    stream.close();
    own.close();
  });
  const ofCall = (type: string, callId: string, on = stream) =>
    on.messages.filter((m) => m.type === type && m.callId === callId && m.agentId === 'e1');
  t.equal((await holder.api('POST', '/api/agents/e1/login', {})).status, 200);
  t.equal((await holder.api('POST', '/api/agents/e1/ready')).status, 200);
  const c = citizen(acdLab.lab, holder, { did: '7001', caller: '13800000631' });
  const { callId } = await c.entered;
  const offer = await until(
    'the offer on the other controller',
    () => ofCall('agent.offer', String(callId))[0],
    20_000,
  );
  t.match(
    offer,
    { queue: 'general', did: '7001', caller: '13800000631', callerMasked: false },
    'the screen pop as the holder made it',
  );
  await c.log(LogEvent.callConnectedToAgent);
  t.equal((await holder.api('POST', '/api/agents/e1/call/hold')).status, 200);
  await until(
    'held, told elsewhere',
    () => ofCall('agent.call', String(callId)).some((m) => m.state === 'held'),
    5_000,
  );
  t.equal((await holder.api('POST', '/api/agents/e1/call/resume')).status, 200);
  await until(
    'talking again, told elsewhere',
    () => ofCall('agent.call', String(callId)).some((m) => m.state === 'talking'),
    5_000,
  );
  t.equal((await holder.api('POST', '/api/agents/e1/call/mute')).status, 200);
  await until(
    'muted, told elsewhere',
    () => ofCall('agent.call', String(callId)).some((m) => m.state === 'muted'),
    5_000,
  );
  t.equal((await holder.api('POST', '/api/agents/e1/call/unmute')).status, 200);
  await until('unmuted, told elsewhere', () => ofCall('agent.call', String(callId)).length >= 4, 5_000);
  t.equal((await holder.api('POST', '/api/agents/e1/call/hangup')).status, 200);
  await c.sipp.done;
  t.equal(ofCall('agent.offer', String(callId)).length, 1, 'the offer told once');
  t.same(
    ofCall('agent.call', String(callId)).map((m) => m.state),
    ['held', 'talking', 'muted', 'talking'],
    'each change once, in order',
  );
  // On the holder's own stream too, each once: told when made, not again from the relay.
  t.equal(ofCall('agent.offer', String(callId), own).length, 1, "the holder's page: the offer once");
  t.same(
    ofCall('agent.call', String(callId), own).map((m) => m.state),
    ['held', 'talking', 'muted', 'talking'],
    "the holder's page: each change once",
  );
});
