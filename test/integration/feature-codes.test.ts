// Agents without a screen: a SIPp desk phone, authenticated as the agent's endpoint, dials the
// feature codes (sign in, ready, not ready with a reason, end wrap-up, sign out) and the agent's
// state changes as the API shows it; the phone hears a confirmation beep (950 Hz) or the error
// tone (450 Hz busy cadence), proved on the RTP it is sent. A bad code and a refused change get
// the error tone; a caller from the carrier's context cannot use the codes, even where a wrong
// dialplan hands them to the controller.
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t, { type Test } from 'tap';

import { agentSipPassword } from '../../src/acd/roster.js';
import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { toneReport } from '../helpers/audio.js';
import { ControllerProcess } from '../helpers/controller.js';
import { until } from '../helpers/lab.js';
import { scratchDir } from '../helpers/scratch.js';
import { runSipp, type SippResult, startLine } from '../helpers/sipp.js';

let acdLab: AcdLab;
let controller: ControllerProcess;
let ear: Ear;

// The carrier's context gets a wrong line, as a careless dialplan edit might: it hands *21 to
// the controller as a feature code. The controller must still refuse it (not an agent's phone).
const wrongDialplan = `
[from-pstn]
exten => *21,1,Stasis(\${REXIAN_APP},feature,\${EXTEN})
`;

t.before(async () => {
  acdLab = await startAcdLab(
    'feature-codes',
    72,
    [
      { id: 'd1', skills: { general: 5 }, scenario: 'agent-answers.xml' },
      { id: 'd2', skills: { special: 5 }, scenario: 'none' },
    ],
    {
      extraDialplan: wrongDialplan,
      // A long wrap-up: time to end it from the phone.
      queues: acdQueuesWith(`  ringSeconds: 4
  wrapUpSeconds: 60
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
    },
  );
  controller = new ControllerProcess(acdLab.lab.env, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  ear = await openEar(acdLab.lab.ports.sippMedia + 80);
});

t.teardown(async () => {
  ear?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

/** A UDP socket in place of the phone's speaker: the A-law RTP Asterisk sends the phone. */
interface Ear {
  port: number;
  heard: number[];
  close(): void;
}

async function openEar(port: number): Promise<Ear> {
  const socket: Socket = createSocket('udp4');
  const ear: Ear = { port, heard: [], close: () => socket.close() };
  socket.on('message', (packet) => {
    if (packet.length <= 12 || (packet[1]! & 0x7f) !== 8) return;
    for (let i = 12 + (packet[0]! & 0x0f) * 4; i < packet.length; i++) ear.heard.push(alawToLinear(packet[i]!));
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return ear;
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let value = (a & 0x0f) << 4;
  value = exponent === 0 ? value + 8 : (value + 0x108) << (exponent - 1);
  return a & 0x80 ? value : -value;
}

/**
 * A phone dialling `[service]`: with `auth`, as the agent's endpoint (From agent-<id>, digest
 * with -au/-ap); its SDP sends Asterisk's audio to the ear. `answered`: it expects a 200 and
 * Asterisk's BYE; otherwise a final refusal (4xx).
 */
function phoneScenario(options: { auth: boolean; answered: boolean }): string {
  const sdp = `
      v=0
      o=- 53655765 2353687637 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio ${ear.port} RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv`;
  const invite = (cseq: number, auth: boolean): string => `
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]fc[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
${auth ? '      [authentication]\n' : ''}      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]
${sdp}
    ]]>
  </send>
  <recv response="100" optional="true"/>`;
  const ack = (cseq: number, to: string): string => `
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      ${cseq === 1 || !options.answered ? '[last_Via:]' : 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]'}
      From: <sip:[caller]@[remote_ip]:[remote_port]>;tag=[pid]fc[call_number]
      ${to}
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>`;
  const challenge = options.auth
    ? `${invite(1, false)}
  <recv response="401" auth="true"/>${ack(1, '[last_To:]')}
${invite(2, true)}`
    : invite(1, false);
  const cseq = options.auth ? 2 : 1;
  const end = options.answered
    ? `
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>${ack(cseq, '[last_To:]')}
  <recv request="BYE" timeout="15000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>`
    : `
  <recv response="404" timeout="10000"/>${ack(cseq, '[last_To:]')}`;
  const file = join(scratchDir('scenario'), `phone-${options.auth ? 'agent' : 'carrier'}.xml`);
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="a phone dials a feature code">${challenge}${end}
</scenario>
`,
  );
  return file;
}

interface Dialled {
  sipp: SippResult;
  /** Fraction of 20 ms windows carrying the confirmation (950 Hz) and the error tone (450 Hz). */
  confirm: number;
  error: number;
}

/** Agent `agentId`'s desk phone dials `code`; resolves when the call is over, with what the phone heard. */
async function dial(agentId: string, code: string): Promise<Dialled> {
  ear.heard = [];
  const sipp = await runSipp({
    scenario: phoneScenario({ auth: true, answered: true }),
    remote: `127.0.0.1:${acdLab.lab.ports.sip}`,
    service: code,
    localPort: acdLab.lab.ports.sipp + 6,
    mediaPort: acdLab.lab.ports.sippMedia + 60,
    keys: { caller: `agent-${agentId}` },
    extraArgs: ['-au', `agent-${agentId}`, '-ap', agentSipPassword(acdLab.lab.env.REXIAN_AGENT_SIP_SECRET!, agentId)],
    timeoutSec: 20,
  }).done;
  const samples = Int16Array.from(ear.heard);
  return { sipp, confirm: toneReport(samples, 950).toneWindows, error: toneReport(samples, 450).toneWindows };
}

const stateOf = async (id: string): Promise<Record<string, unknown>> =>
  (await controller.api<Record<string, unknown>>('GET', `/api/agents/${id}`)).body;

const pct = (x: number): string => `${Math.round(x * 100)}%`;

function confirmed(t: Test, heard: Dialled, what: string): void {
  t.equal(heard.sipp.exitCode, 0, `${what}: answered and hung up by the hotline`, { errors: heard.sipp.errors });
  t.ok(heard.confirm > 0.25, `${what}: the phone hears the confirmation beep (${pct(heard.confirm)})`);
  t.ok(heard.error < 0.05, `${what}: and not the error tone (${pct(heard.error)})`);
}

function refused(t: Test, heard: Dialled, what: string): void {
  t.equal(heard.sipp.exitCode, 0, `${what}: answered and hung up by the hotline`, { errors: heard.sipp.errors });
  t.ok(heard.error > 0.2, `${what}: the phone hears the error tone (${pct(heard.error)})`);
  t.ok(heard.confirm < 0.05, `${what}: and not the confirmation (${pct(heard.confirm)})`);
}

t.test('from the desk phone: sign in, ready, not ready with a reason, sign out; the API shows each', async (t) => {
  const from = controller.logs.length;
  confirmed(t, await dial('d2', '*21'), 'sign in');
  t.match(await stateOf('d2'), { state: 'not-ready', reason: 'login' }, 'signed in, not ready');
  const applied = await controller.waitForEvent(LogEvent.featureCodeApplied, (l) => l.agentId === 'd2', 5_000, from);
  t.match(applied, { code: '*21', action: 'sign-in', state: 'not-ready' });
  t.match(applied.channelId, /\S/, 'logged with the channel id');

  confirmed(t, await dial('d2', '*23'), 'ready');
  t.match(await stateOf('d2'), { state: 'ready' });
  confirmed(t, await dial('d2', '*223'), 'not ready, reason 3');
  t.match(await stateOf('d2'), { state: 'not-ready', reason: 'meeting', reasonLabel: '会议' });
  confirmed(t, await dial('d2', '*22'), 'not ready alone');
  t.match(await stateOf('d2'), { state: 'not-ready', reason: 'break' }, 'reason 1: the roster’s first');
  confirmed(t, await dial('d2', '*29'), 'sign out');
  t.match(await stateOf('d2'), { state: 'logged-out' });
});

t.test('a code that is not one, a reason that is not one, a change not allowed now: the error tone', async (t) => {
  refused(t, await dial('d2', '*99'), 'an unknown code');
  t.match(await stateOf('d2'), { state: 'logged-out' }, 'nothing changed');
  refused(t, await dial('d2', '*23'), 'ready while signed out');
  t.match(await stateOf('d2'), { state: 'logged-out' });
  confirmed(t, await dial('d2', '*21'), 'sign in');
  refused(t, await dial('d2', '*229'), 'a reason digit with no reason');
  t.match(await stateOf('d2'), { state: 'not-ready', reason: 'login' });
  refused(t, await dial('d2', '*24'), 'end wrap-up outside wrap-up');
  confirmed(t, await dial('d2', '*29'), 'sign out');
});

t.test('during a call ready is refused; after it, the phone ends the wrap-up', async (t) => {
  confirmed(t, await dial('d1', '*21'), 'sign in');
  confirmed(t, await dial('d1', '*23'), 'ready');
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000721' });
  await c.log(LogEvent.callConnectedToAgent);
  refused(t, await dial('d1', '*23'), 'ready while on the call');
  t.match(await stateOf('d1'), { state: 'on-call' }, 'still on the call');
  t.equal((await controller.api('POST', '/api/agents/d1/call/hangup')).status, 200);
  await c.sipp.done;
  await until('d1 in wrap-up', async () => (await stateOf('d1')).state === 'wrap-up', 10_000);
  confirmed(t, await dial('d1', '*24'), 'end wrap-up');
  t.match(await stateOf('d1'), { state: 'ready' }, 'ready again, long before the 60 s wrap-up ends');
  confirmed(t, await dial('d1', '*29'), 'sign out');
});

t.test("a caller from the carrier's side cannot use the codes", async (t) => {
  const carrier = (code: string, answered: boolean) =>
    runSipp({
      scenario: phoneScenario({ auth: false, answered }),
      remote: `127.0.0.1:${acdLab.lab.ports.sip}`,
      service: code,
      localPort: acdLab.lab.ports.sipp + 7,
      mediaPort: acdLab.lab.ports.sippMedia + 64,
      keys: { caller: '13800000731' },
      timeoutSec: 20,
    }).done;

  const notRouted = await carrier('*23', false);
  t.equal(notRouted.exitCode, 0, 'the dialplan has no *23 for the carrier: refused', { errors: notRouted.errors });
  t.ok(
    notRouted.messages.some((m) => m.direction === 'received' && startLine(m.text).startsWith('SIP/2.0 404')),
    'with 404',
  );

  // The wrong line hands *21 to the controller: it answers, sees the carrier's endpoint, refuses.
  const from = controller.logs.length;
  ear.heard = [];
  const handed = await carrier('*21', true);
  const samples = Int16Array.from(ear.heard);
  t.equal(handed.exitCode, 0, 'answered and hung up', { errors: handed.errors });
  t.ok(toneReport(samples, 450).toneWindows > 0.2, 'with the error tone');
  const log = await controller.waitForEvent(LogEvent.featureCodeRefused, undefined, 5_000, from);
  t.match(log, { endpoint: 'pstn', context: 'from-pstn', code: '*21' });
  t.notOk('agentId' in log, 'no agent is named');
  for (const id of ['d1', 'd2']) t.match(await stateOf(id), { state: 'logged-out' }, `${id} is still signed out`);
});

t.test('with no controller connected, the phone hears the busy tone and nothing changes', async (t) => {
  t.equal(await controller.kill('SIGTERM'), 0, 'the controller stopped cleanly');
  const heard = await dial('d2', '*21');
  t.equal(heard.sipp.exitCode, 0, 'answered and hung up by Asterisk', { errors: heard.sipp.errors });
  t.ok(heard.error > 0.2, `the busy tone (${pct(heard.error)})`);
  t.ok(heard.confirm < 0.05, `no confirmation (${pct(heard.confirm)})`);
  t.equal(await acdLab.lab.redis.hget(`${acdLab.lab.prefix}:agent:d2`, 'state'), 'logged-out', 'd2 still signed out');
});
