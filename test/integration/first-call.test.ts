// The first call end to end: real Asterisk, real SIPp citizen, the real controller.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { greetingFlows, type Lab, startLab } from '../helpers/lab.js';
import { dialCitizen, startLine } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;

t.before(async () => {
  lab = await startLab('first-call', 1, { flowsDir: greetingFlows });
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
});

t.test('a citizen who dials 12345 is answered, hears the welcome to its end, then is hung up politely', async (t) => {
  const from = controller.logs.length;
  const sipp = dialCitizen(lab, { scenario: 'citizen-waits-for-bye.xml', caller: '13800138000', timeoutSec: 40 });
  const result = await sipp.done;
  t.equal(result.exitCode, 0, `SIPp finished cleanly: ${result.errors}`);
  t.equal(result.successful, 1, 'SIPp statistics count one successful call');
  t.equal(result.failed, 0, 'and no failed call');
  const received = result.messages.filter((m) => m.direction === 'received').map((m) => startLine(m.text));
  t.ok(
    received.some((l) => l.startsWith('SIP/2.0 200')),
    'the INVITE was answered with 200 OK',
  );
  t.ok(
    received.some((l) => l.startsWith('BYE')),
    'the hotline hung up (BYE from Asterisk)',
  );

  const entered = await controller.waitForEvent(LogEvent.callEntered, undefined, 5_000, from);
  t.equal(entered.did, '12345', 'the controller saw the dialled number');
  t.equal(entered.caller, '138****8000', 'and the caller number, masked (logs carry no subscriber number)');
  const finished = controller.logs
    .slice(from)
    .filter((l) => l.event === LogEvent.promptFinished && l.callId === entered.callId);
  t.same(
    finished.map((l) => l.node),
    ['greeting', 'bye'],
    'PlaybackFinished was observed for the welcome, then the goodbye',
  );
  const ended = await controller.waitForEvent(LogEvent.callEnded, (l) => l.callId === entered.callId, 5_000, from);
  t.equal(ended.reason, 'hangup');
  t.equal(ended.channelId, entered.channelId, 'logs carry the channel id');
});
