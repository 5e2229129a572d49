// Calls through a virtual number, with SIPp on both sides of the public trunk: A dials X and
// B rings seeing X, B dials X and A rings seeing X, and the receiving side's INVITE carries
// the hidden number in no header at all; anyone else, or after unbinding, is told so and
// goes on to 12345; the call record names the binding, not the number.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { hotlineNumbers } from '../../src/asterisk/instance.js';
import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { dbRows, type Lab, startLab, until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';
import { citizenScenario, runSipp, startLine } from '../helpers/sipp.js';

const POOL = ['02367721000', '02367721001'];
const A = '02388880001'; // the department
const B = '13800000501'; // the citizen
let lab: Lab;
let controller: ControllerProcess;

t.before(async () => {
  lab = await startLab('masking', 19, { numbers: [...hotlineNumbers, ...POOL], pstnContact: 'sip:127.0.0.1:21979' });
  const pool = join(scratchDir('masking'), 'virtual-numbers.yaml');
  writeFileSync(pool, `numbers: [${POOL.map((n) => `"${n}"`).join(', ')}]\n`);
  controller = new ControllerProcess({ ...lab.env, REXIAN_VIRTUAL_NUMBERS_FILE: pool }, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
});

/** The far side's phone: the lab's public trunk ends here. */
const farPhone = () =>
  runSipp({ scenario: 'agent-answers.xml', localPort: 21979, mediaPort: lab.ports.sippMedia + 90, timeoutSec: 30 });
/** Someone dials X from the public network with their own number. */
const dial = (x: string, caller: string) =>
  runSipp({
    scenario: citizenScenario([], { hangUpAfterMs: 2500 }),
    remote: `127.0.0.1:${lab.ports.sip}`,
    service: x,
    localPort: lab.ports.sipp,
    mediaPort: lab.ports.sippMedia,
    keys: { caller },
    timeoutSec: 30,
  });
const inviteTo = (messages: Array<{ direction: string; text: string }>): string =>
  messages.find((m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'))?.text ?? '';

let binding: { id: string; x: string };

t.test("A dials X: B rings, sees X, and no header carries A's number", async (t) => {
  const res = await controller.api<{ id: string; x: string }>('POST', '/api/bindings', {
    a: A,
    b: B,
    caseId: 'M-1',
    record: true,
  });
  t.equal(res.status, 201);
  binding = res.body;
  const far = farPhone();
  const caller = dial(binding.x, A);
  await controller.waitForEvent(LogEvent.maskingConnected, (l) => l.binding === binding.id, 15_000);
  t.equal((await caller.done).exitCode, 0, "the department's call went through");
  const invite = inviteTo((await far.done).messages);
  t.match(startLine(invite), new RegExp(`^INVITE sip:${B}@`), 'B is rung');
  t.match(invite, new RegExp(`From:[^\\n]*${binding.x}`), 'B sees X as the caller');
  t.notMatch(
    invite,
    new RegExp(A.slice(1)),
    "A's number is in no header (From, To, PAI, RPID, Contact, Diversion, History-Info …)",
  );
  t.notMatch(
    invite,
    /^(P-Asserted-Identity|Remote-Party-ID|Diversion|History-Info):/im,
    'and no identity headers are sent at all',
  );
});

t.test("B dials X: A rings, sees X, and no header carries B's number", async (t) => {
  const from = controller.logs.length;
  const far = farPhone();
  const caller = dial(binding.x, B);
  await controller.waitForEvent(LogEvent.maskingConnected, (l) => l.binding === binding.id, 15_000, from);
  await caller.done;
  const invite = inviteTo((await far.done).messages);
  t.match(startLine(invite), new RegExp(`^INVITE sip:${A}@`), 'A is rung');
  t.match(invite, new RegExp(`From:[^\\n]*${binding.x}`), 'A sees X');
  t.notMatch(invite, new RegExp(B.slice(1)), "B's number is in no header");
});

t.test('anyone else hears the number is not theirs and goes on to 12345; after unbinding, A does too', async (t) => {
  const from = controller.logs.length;
  const stranger = dial(binding.x, '13900000999');
  const refused = await controller.waitForEvent(LogEvent.maskingRefused, undefined, 15_000, from);
  t.equal(refused.refused, 'not-a-party');
  await controller.waitForEvent(
    LogEvent.flowStarted,
    (l) => l.flowId === 'main-12345' && l.callId === refused.callId,
    15_000,
    from,
  );
  await stranger.done;
  t.equal((await controller.api('DELETE', `/api/bindings/${binding.id}`)).status, 204);
  const after = controller.logs.length;
  const a = dial(binding.x, A);
  const again = await controller.waitForEvent(LogEvent.maskingRefused, undefined, 15_000, after);
  t.equal(again.refused, 'not-bound', 'unbound: the next call reaches nobody');
  await a.done;
});

t.test('an expired binding says so on a real call; a binding at its call limit refuses the next call', async (t) => {
  const short = await controller.api<{ id: string; x: string }>('POST', '/api/bindings', {
    a: A,
    b: B,
    caseId: 'M-2',
    ttlHours: 1.5 / 3600,
  });
  t.equal(short.status, 201);
  await until(
    'binding gone',
    async () => (await controller.api('GET', `/api/bindings/${short.body.id}`)).status === 404,
    10_000,
  );
  const from = controller.logs.length;
  const late = dial(short.body.x, A);
  const expired = await controller.waitForEvent(LogEvent.maskingRefused, undefined, 15_000, from);
  t.equal(expired.refused, 'expired', "the department hears that the number's service has ended");
  t.equal(expired.x, short.body.x);
  await late.done;

  const once = await controller.api<{ id: string; x: string }>('POST', '/api/bindings', {
    a: A,
    b: B,
    caseId: 'M-3',
    maxCalls: 1,
  });
  t.equal(once.status, 201);
  const mark = controller.logs.length;
  const far = farPhone();
  const first = dial(once.body.x, A);
  await controller.waitForEvent(LogEvent.maskingConnected, (l) => l.binding === once.body.id, 15_000, mark);
  await first.done;
  await far.done;
  const next = controller.logs.length;
  const second = dial(once.body.x, A);
  const limited = await controller.waitForEvent(LogEvent.maskingRefused, undefined, 15_000, next);
  t.equal(limited.refused, 'call-limit', 'the second call is refused: the binding allowed one');
  await second.done;
  t.equal((await controller.api('DELETE', `/api/bindings/${once.body.id}`)).status, 204);
});

t.test('the call records name the binding and never the hidden number', async (t) => {
  const rows = await until(
    'records',
    async () => {
      const r = await dbRows<Record<string, unknown>>(
        lab.env.DATABASE_URL!,
        'SELECT * FROM call_records WHERE masking_binding = $1',
        [binding.id],
      );
      return r.length >= 2 ? r : undefined;
    },
    15_000,
  );
  t.ok(
    rows.every((r) => r.caller_masked === true),
    'marked masked',
  );
  t.notMatch(JSON.stringify(rows), new RegExp(`${A}|${B}`), 'neither number in clear text');
  t.ok(
    rows.some((r) => (r.recordings as string[]).length === 1),
    'recorded, as the binding asked',
  );
});
