// Two small record-keeping rules on real calls: a caller turned away by a full queue leaves a
// record that names the queue, says the system ended the call and why (queue-full); a
// voicemail with no speech in it is kept but makes no callback task, while one with speech
// (a tone, which Asterisk's talk detection hears as talking) does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { tonePcap } from '../helpers/audio.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, streamEntries, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;

t.before(async () => {
  acdLab = await startAcdLab('refusals', 28, [{ id: 'r1', skills: { general: 5 }, scenario: 'agent-answers.xml' }]);
  // 12366 leaves a voicemail: # ends it, then goodbye.
  writeFileSync(
    join(acdLab.dir, 'flows', 'voicemail.yaml'),
    `id: voicemail
numbers: ["12366"]
start: vm
nodes:
  vm: { type: voicemail, prompt: { text: 请留言，按井号键结束。 }, maxSeconds: 30, reason: after-hours, next: bye }
  bye: { type: hangup, prompt: message-recorded }
`,
  );
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

t.test(
  'a caller turned away by a full queue: the record names the queue, the system side and queue-full',
  async (t) => {
    // Logged in, not ready: the queue has someone who could answer, so only its length refuses.
    t.equal((await controller.api('POST', '/api/agents/r1/login', {})).status, 200);
    const first = citizen(acdLab.lab, controller, { did: '7007', caller: '13800000901', hangUpAfterMs: 7000 });
    await first.log(LogEvent.callQueued);
    const second = citizen(acdLab.lab, controller, { did: '7007', caller: '13800000902' });
    const refused = await second.log(LogEvent.queueRefused);
    t.match(String(refused.why), /queue is full/);
    t.equal((await second.sipp.done).exitCode, 0, 'told goodbye and hung up by the hotline');
    const [row] = await until(
      "the refused caller's record",
      async () => {
        const r = await dbRows<Record<string, unknown>>(
          acdLab.lab.env.DATABASE_URL!,
          'SELECT * FROM call_records WHERE call_id = $1',
          [refused.callId],
        );
        return r.length === 1 ? r : undefined;
      },
      15_000,
    );
    t.match(row, {
      queue: 'tiny',
      origin_queue: 'tiny',
      hangup_side: 'system',
      end_reason: 'queue-full',
      answered: false,
      abandoned: false,
      wait_ms: null,
    });
    await first.sipp.done;
  },
);

const callbackTasks = async (callId: unknown) =>
  (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:callbacks`)).filter((e) => e.callId === callId);

t.test('a silent voicemail is kept but makes no callback task; one with speech makes one', async (t) => {
  const silent = citizen(acdLab.lab, controller, {
    did: '12366',
    caller: '13800000903',
    steps: [{ pauseMs: 5000 }, { key: '#' }],
  });
  const quiet = await silent.log(LogEvent.voicemailSilent, 30_000);
  t.equal(quiet.talkingS, 0, 'Asterisk heard no talking');
  t.same(await callbackTasks(quiet.callId), [], 'no callback task');
  await silent.log(LogEvent.flowEnded, 15_000);
  await silent.sipp.done;

  const spoken = citizen(acdLab.lab, controller, {
    did: '12366',
    caller: '13800000904',
    steps: [{ pauseMs: 4000 }, { pcap: tonePcap(440, 4) }, { pauseMs: 5000 }, { key: '#' }],
  });
  const recorded = await spoken.log(LogEvent.voicemailRecorded, 30_000);
  t.match(
    await callbackTasks(recorded.callId),
    [{ reason: 'voicemail', recording: recorded.recording }],
    'a callback task for the message',
  );
  await spoken.sipp.done;
});
