// A controller crash drops no call: the citizen stays connected while no controller runs,
// and the next controller process picks up the very same channel and carries on.
import t, { type Test } from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { greetingFlows, type Lab, sleep, startLab } from '../helpers/lab.js';
import { dialCitizen, startLine } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;

t.before(async () => {
  lab = await startLab('crash', 2, { flowsDir: greetingFlows });
});

t.afterEach(async () => {
  await controller?.kill('SIGKILL');
});

t.teardown(async () => {
  await lab?.close();
});

async function crashDuringWelcome(t: Test, downForMs: number): Promise<void> {
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  const sipp = dialCitizen(lab, { scenario: 'citizen-waits-for-bye.xml', caller: '13900139000', timeoutSec: 60 });
  const playing = await controller.waitForEvent(LogEvent.promptPlaying, (l) => l.node === 'greeting');
  await sleep(1_000); // well inside the 7 s welcome prompt
  const killedAt = Date.now();
  t.equal(await controller.kill('SIGKILL'), null, 'the controller died of SIGKILL');

  await sleep(downForMs);
  const channel = await lab.ari<{ id: string; state: string }>('GET', `/channels/${playing.channelId}`);
  t.equal(channel.status, 200, 'with no controller running, the citizen is still connected');
  t.equal(channel.body.state, 'Up');

  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  const restartedAt = Date.now();
  const picked = await controller.waitForEvent(LogEvent.callPickedUp);
  t.equal(picked.channelId, playing.channelId, 'the new process picked up the same channel');
  t.equal(picked.callId, playing.callId, 'as the same call');

  const result = await sipp.done;
  t.equal(result.exitCode, 0, `SIPp: the call completed normally ${result.errors}`);
  t.equal(result.successful, 1);
  const bye = result.messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('BYE'));
  t.ok(bye, 'the hangup came from the hotline side');
  const ended = await controller.waitForEvent(LogEvent.callEnded, (l) => l.callId === playing.callId);
  t.equal(ended.reason, 'hangup');
  t.ok(
    ended.time >= restartedAt && restartedAt > killedAt,
    'the call ended only after the new controller took it over',
  );
  const goodbye = controller.logs.find(
    (l) => l.event === LogEvent.promptPlaying && l.node === 'bye' && l.callId === playing.callId,
  );
  t.ok(goodbye, 'the new controller continued the flow (goodbye prompt)');
}

t.test('SIGKILL mid-prompt: the new process waits for the same prompt to end, then continues', async (t) => {
  await crashDuringWelcome(t, 500);
  t.ok(
    controller.logs.some((l) => l.event === LogEvent.promptStillPlaying),
    'it found the welcome still playing',
  );
});

t.test(
  'SIGKILL mid-prompt and down until the prompt ended: the lost PlaybackFinished does not strand the call',
  async (t) => {
    await crashDuringWelcome(t, 8_000);
    t.notOk(
      controller.logs.some((l) => l.event === LogEvent.promptStillPlaying),
      'the welcome had ended while no controller ran',
    );
  },
);
