// When the controller is not connected, citizens are still served: the dialplan apologises
// and queues them natively (app_queue) to the general agents.
import t from 'tap';

import { observeAmi } from '../helpers/ami-observer.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type Lab, startLab } from '../helpers/lab.js';
import { dialCitizen, runSipp, startLine } from '../helpers/sipp.js';

let lab: Lab;

t.before(async () => {
  lab = await startLab('fallback', 3, {
    agents: [{ id: '1001', secret: 'lab-agent-secret', contact: 'sip:agent-1001@127.0.0.1:20372' }],
  });
});

t.teardown(async () => {
  await lab?.close();
});

t.test('after a clean controller stop, the next caller hears the apology and reaches a general agent', async (t) => {
  const controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  t.equal(await controller.kill('SIGTERM'), 0, 'the controller stopped cleanly');

  const ami = await observeAmi(lab);
  t.teardown(() => ami.close());
  const agent = runSipp({
    scenario: 'agent-answers.xml',
    localPort: lab.ports.sipp + 2,
    mediaPort: lab.ports.sippMedia + 20,
    timeoutSec: 40,
  });
  const citizen = dialCitizen(lab, {
    scenario: 'citizen-hangs-up-after-12s.xml',
    caller: '13700137000',
    timeoutSec: 40,
  });

  const apology = await ami.waitFor(
    'apology playback',
    (e) => e.event === 'Newexten' && e.context === 'rexian-fallback' && e.application === 'Playback',
  );
  t.match(
    apology.appdata,
    /^\/var\/lib\/rexian\/prompts\/tts-[0-9a-f]{16}$/,
    'the synthesized apology prompt is played',
  );
  const joined = await ami.waitFor('caller joins the native queue', (e) => e.event === 'QueueCallerJoin');
  t.equal(joined.queue, 'rexian-fallback');
  t.equal(joined.calleridnum, '13700137000');
  const connected = await ami.waitFor('agent connected', (e) => e.event === 'AgentConnect');
  t.equal(connected.membername, 'PJSIP/agent-1001', 'a general agent answered');

  const [c, a] = await Promise.all([citizen.done, agent.done]);
  t.equal(c.exitCode, 0, `the citizen's call went through ${c.errors}`);
  t.equal(a.exitCode, 0, `the agent's phone answered and was hung up normally ${a.errors}`);
  t.ok(
    a.messages.some((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE')),
    'the agent phone rang',
  );
});
