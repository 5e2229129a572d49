// The desk's remaining call controls, by clicking, against the real controller, Asterisk,
// SIPp citizens and the page's browser phone (desk.test.ts covers answer, hold, mute, a
// window transfer, the three-way call, wrap-up and the resync). Here: the recording paused
// and resumed (Asterisk's live recording says paused, then recording again, and the call
// keeps one pause); a consultation of a number cancelled (the citizen, who heard music and
// not the agent, hears the agent again, and the number is hung up on); a blind transfer to a
// number on the public trunk (the agent is released into wrap-up, the citizen talks to it);
// and the emergency hand-off, one click on 120 (the emergency trunk, a SIPp phone here, is
// asked for 120 with the citizen's number, joins the call and hears the agent, the hand-off
// is kept as an emergency event). Each result must also be said in words on the page.
//
// The browser runs in a network namespace as in phone.test.ts (which explains why); the lab
// is test/helpers/desk-page.ts, the same as desk.test.ts's.
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { citizen } from '../helpers/acd-lab.js';
import { listen, tonePcap } from '../helpers/audio.js';
import { resultsDir } from '../helpers/browser.js';
import { type DeskLab, deskReader, mixedToneWindows, startDeskLab } from '../helpers/desk-page.js';
import { streamEntries, until } from '../helpers/lab.js';
import { type RunningSipp, runSipp, startLine } from '../helpers/sipp.js';
import { signInWithPhone } from '../helpers/webrtc.js';

const CITIZEN_HZ = 600;
const AGENT_HZ = 1500;

let desk: DeskLab;
let reader: ReturnType<typeof deskReader>;

t.before(async () => {
  desk = await startDeskLab('desk-controls', 58, 'c1', AGENT_HZ);
  reader = deskReader(desk.browser);
});

t.teardown(async () => {
  await desk?.close();
});

const pct = (x: number): string => `${Math.round(x * 100)}%`;
let ears = 0;
/** The share of 1.5 s in which `channel` hears `hz`. */
const hears = async (channel: string, hz: number): Promise<number> =>
  (await listen(desk.acdLab.lab, desk.probe, channel, `dc-ear-${ears++}`, 1_500, hz)).toneWindows;

/** What 120 hears: the page's tone mixed with the citizen's (see mixedToneWindows). */
async function centreHearsAgent(channel: string): Promise<number> {
  const name = `dc-ear-${ears++}`;
  await listen(desk.acdLab.lab, desk.probe, channel, name, 2_000, AGENT_HZ);
  // Measured: the page's tone reaches 120 about 17 dB below the citizen's (2% of the energy),
  // and 0% once the agent has left, so half a percent tells heard from not heard.
  return mixedToneWindows(join(desk.acdLab.lab.asterisk.hostDir, 'spool/recording', `${name}.wav`), AGENT_HZ, 0.005);
}

const serverState = async (): Promise<string> =>
  (await desk.controller.api<{ state: string }>('GET', '/api/agents/c1')).body.state;

const bridgeChannels = async (callId: string): Promise<string[]> =>
  (await desk.acdLab.lab.ari<{ channels?: string[] }>('GET', `/bridges/${callId}-talk`)).body.channels ?? [];

/** The far end on the public (and emergency) trunk: a SIPp phone that answers and waits for BYE. */
const trunkPhone = (): RunningSipp =>
  runSipp({
    scenario: 'agent-answers.xml',
    localPort: desk.acdLab.lab.ports.sipp + 9,
    mediaPort: desk.acdLab.lab.ports.sippMedia + 90,
    timeoutSec: 90,
  });

const inviteLine = async (phone: RunningSipp): Promise<{ line: string; text: string }> => {
  const invite = (await phone.done).messages.find(
    (m) => m.direction === 'received' && startLine(m.text).startsWith('INVITE'),
  );
  return { line: startLine(invite?.text ?? ''), text: invite?.text ?? '' };
};

/** Throws with what the call panel said, so a failure shows the page's words. */
async function callPanelSays(words: RegExp, timeoutMs = 10_000): Promise<void> {
  if (!(await reader.saysSoon('call', words, timeoutMs)))
    throw new Error(`the call panel never said ${String(words)}; it says "${await reader.said('call')}"`);
}

/** Signs in on the page once, logs in and goes ready by clicking. */
async function signedInAndReady(): Promise<void> {
  const { page } = desk.browser;
  if (!page.url().includes('/agent/')) {
    await signInWithPhone(page, `${desk.controller.url}/agent/`, 'c1', desk.password);
    await reader.stateShown('logged-out');
    await page.locator('[data-test=state-log-in]').click();
    await reader.stateShown('not-ready');
  }
  if ((await reader.shownState()) === 'wrap-up') await page.locator('[data-test=end-wrap-up]').click();
  if ((await reader.shownState()) !== 'ready') await page.locator('[data-test=state-ready]').click();
  await reader.stateShown('ready');
}

/** A citizen (speaking their tone) calls; the agent answers on the page's phone by clicking. */
async function answeredCall(caller: string) {
  await signedInAndReady();
  const c = citizen(desk.acdLab.lab, desk.controller, {
    did: '7001',
    caller,
    steps: [{ pcap: tonePcap(CITIZEN_HZ, 120) }],
  });
  await until('ringing', async () => (await reader.text('[data-test=phone-call]')).startsWith('来电'), 20_000, 50);
  await desk.browser.page.locator('[data-test=phone-answer]').click();
  const callId = String((await c.log(LogEvent.callConnectedToAgent, 15_000)).callId);
  await reader.stateShown('on-call');
  await until('the pop says talking', async () => /^通话中/.test(await reader.text('[data-test=pop-phase]')), 5_000);
  return { ...c, callId };
}

/** The agent ends the call from the desk and ends wrap-up: ready for the next test. */
async function hangUpAndReady(c: { sipp: { done: Promise<{ exitCode: number | null }> } }): Promise<number | null> {
  const { page } = desk.browser;
  await page.locator('[data-test=call-hang-up]').click();
  await reader.stateShown('wrap-up', 10_000);
  const { exitCode } = await c.sipp.done;
  await page.locator('[data-test=end-wrap-up]').click();
  await reader.stateShown('ready');
  return exitCode;
}

t.test('by clicking: the recording is paused, said so, and resumed; the call keeps one pause', async (t) => {
  const { page } = desk.browser;
  const c = await answeredCall('13800138101');
  await c.log(LogEvent.recordingStarted, 10_000);
  const recording = `${c.callId}-talk`;
  const live = async (): Promise<string | undefined> =>
    (await desk.acdLab.lab.ari<{ state?: string }>('GET', `/recordings/live/${recording}`)).body.state;
  t.equal(await live(), 'recording', 'Asterisk records the call from the answer');
  const button = page.locator('[data-test=call-recording]');
  t.equal((await button.textContent())?.trim(), '暂停录音', 'the button offers 暂停录音');

  await button.click();
  await until('the button offers resume', async () => (await button.textContent())?.trim() === '恢复录音', 5_000);
  await callPanelSays(/录音已暂停。/);
  t.pass('the page says 录音已暂停。');
  t.match(await reader.text('[data-test=call-status]'), /录音已暂停/, 'and flags it while paused');
  t.equal(await button.getAttribute('aria-pressed'), 'true', 'the button is pressed');
  t.equal(await live(), 'paused', "Asterisk's live recording is paused");
  const view = await desk.controller.api<{ call: { recordingPaused: boolean } }>('GET', '/api/agents/c1/call');
  t.equal(view.body.call.recordingPaused, true, "the agent's call says the recording is paused");
  await desk.browser.screenshot('agent-desk-recording-paused');

  await button.click();
  await until('the button offers pause', async () => (await button.textContent())?.trim() === '暂停录音', 5_000);
  await callPanelSays(/录音已恢复。/);
  t.pass('the page says 录音已恢复。');
  t.notMatch(await reader.text('[data-test=call-status]'), /录音已暂停/, 'no flag any more');
  t.equal(await live(), 'recording', "Asterisk's live recording runs again");

  t.equal(await hangUpAndReady(c), 0, 'the call ended from the desk');
  const list = await desk.controller.api<{ recordings: Array<{ name: string; pauses: number }> }>(
    'GET',
    `/api/calls/${c.callId}/recordings`,
  );
  t.match(list.body.recordings, [{ name: recording, pauses: 1 }], 'the recording is listed with its one pause');
});

t.test('by clicking: consult a number, cancel, and the citizen is back with the agent, as the page says', async (t) => {
  const { page } = desk.browser;
  const c = await answeredCall('13800138102');
  const number = '02367720011';
  const phone = trunkPhone();
  await page.locator('[data-test=transfer-kind-number]').check();
  await page.locator('[data-test=transfer-target]').fill(number);
  await page.locator('[data-test=transfer-consult]').click();
  await until(
    'the number answered',
    async () => new RegExp(`^正在与 ${number} 通话`).test(await reader.text('[data-test=consult-state]')),
    15_000,
    50,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; the page says "${await reader.said('call')}"`);
  });
  t.pass(`the page says it is talking with ${number}`);
  const during = await hears(c.callId, AGENT_HZ);
  t.ok(during < 0.1, `consulting, the citizen does not hear the agent (${pct(during)})`);

  await page.locator('[data-test=consult-cancel]').click();
  await callPanelSays(new RegExp(`已取消咨询 ${number}，市民回到与您的通话。`));
  t.pass('the page says the consultation is cancelled and the citizen is back');
  await until(
    'the consultation is gone from the page',
    async () => (await page.locator('[data-test=consult]').count()) === 0,
  );
  t.equal(await page.locator('[data-test=transfer-panel]').count(), 1, 'the transfer panel is offered again');
  t.equal(await serverState(), 'on-call', 'the agent is still on the call');
  const view = await desk.controller.api<{ call: { consult?: unknown; phase: string } }>('GET', '/api/agents/c1/call');
  t.equal(view.body.call.consult, undefined, 'with no consultation on the server');
  const channels = await bridgeChannels(c.callId);
  t.equal(channels.length, 2, 'citizen and agent alone in the talk bridge');
  t.ok(
    channels.every((ch) => ch === c.callId || /-a\d+$/.test(ch)),
    `no consultation leg in it (${channels.join(', ')})`,
  );
  const back = await hears(c.callId, AGENT_HZ);
  t.ok(back >= 0.5, `the citizen hears the agent's page again (${pct(back)})`);
  const seen = await inviteLine(phone);
  t.match(seen.line, new RegExp(`^INVITE sip:${number}@`), 'the number was dialled on the trunk');
  t.equal((await phone.done).exitCode, 0, 'and hung up on when the consultation was cancelled');

  t.equal(await hangUpAndReady(c), 0, 'the call ended from the desk');
});

t.test('by clicking: a blind transfer to a number releases the agent into wrap-up, as the page says', async (t) => {
  const { page } = desk.browser;
  const c = await answeredCall('13800138103');
  const number = '02367720012';
  const phone = trunkPhone();
  await page.locator('[data-test=transfer-kind-number]').check();
  await page.locator('[data-test=transfer-target]').fill(number);
  await page.locator('[data-test=transfer-blind]').click();
  await callPanelSays(new RegExp(`已转接至 ${number}。`));
  t.pass(`the page says 已转接至 ${number}。`);
  await reader.stateShown('wrap-up', 10_000);
  t.equal(await reader.text('[data-test=agent-state]'), '话后整理', 'the agent is in wrap-up, said in words');
  t.equal(await serverState(), 'wrap-up', 'and on the server');
  t.equal(await page.locator('[data-test=wrap-up-countdown]').count(), 1, 'the wrap-up countdown is shown');
  const other = await until(
    'the number joins the citizen',
    async () => {
      const channels = await bridgeChannels(c.callId);
      return channels.length === 2 ? channels.find((ch) => ch !== c.callId) : undefined;
    },
    10_000,
  );
  t.notMatch(other, /-a\d+$/, `the agent's leg is out of the bridge (${other})`);
  await until('the screen pop is gone', async () => (await page.locator('[data-test=pop-line]').count()) === 0, 5_000);
  t.pass('the desk lets go of the call: no screen pop');

  await desk.acdLab.lab.ari('DELETE', `/channels/${other}`); // the number hangs up
  t.equal((await c.sipp.done).exitCode, 0, 'then the citizen is hung up on');
  t.match((await inviteLine(phone)).line, new RegExp(`^INVITE sip:${number}@`), 'the number was dialled on the trunk');
  await page.locator('[data-test=end-wrap-up]').click();
  await reader.stateShown('ready');
});

t.test(
  'by clicking 120 once: the emergency trunk is asked for 120, joins the call, and the page says so',
  async (t) => {
    const { page } = desk.browser;
    const { lab } = desk.acdLab;
    const caller = '13800138104';
    const c = await answeredCall(caller);
    const centre = trunkPhone();
    const button = page.locator('[data-test=emergency-120]');
    t.equal(await button.getAttribute('aria-label'), '紧急转接 120 急救', 'the button names the service');
    await button.click();
    await callPanelSays(/已拨打 120，正在接入通话。/);
    t.pass('the stream says 已拨打 120，正在接入通话。');
    t.ok(await reader.saysSoon('call', /正在转接 120，请留在线上直到对方接听。/), 'and the click is answered in words');
    const emergencyLeg = await until(
      'the emergency line joins the call',
      async () => {
        const channels = await bridgeChannels(c.callId);
        return channels.length === 3 ? channels.find((ch) => /-e\d+$/.test(ch)) : undefined;
      },
      15_000,
    );
    t.ok(emergencyLeg, `citizen, agent and 120 in one bridge (${emergencyLeg})`);
    const status = page.locator('[data-test=emergency-status]');
    await status.and(page.locator('[data-state=joined]')).waitFor({ timeout: 5_000 });
    t.match(
      await status.textContent(),
      /120 急救 已接通：三方通话中。您可以挂断离开/,
      'the group says 120 answered and the agent may leave',
    );
    t.ok(await reader.saysSoon('call', /120 已接通，您可以挂断离开。/), 'and the call panel says it too');
    t.ok(await page.locator('[data-test=emergency-110]').isDisabled(), 'the other lines rest once handed off');
    await desk.browser.screenshot('agent-desk-emergency-120');
    t.pass(`screenshot of the hand-off in ${resultsDir}`);
    const citizenHears = await hears(c.callId, AGENT_HZ);
    t.ok(citizenHears >= 0.5, `in the three-way call the citizen still hears the agent (${pct(citizenHears)})`);
    const centreHears = await centreHearsAgent(emergencyLeg);
    t.ok(centreHears >= 0.5, `120 hears the agent's page, mixed with the citizen (${pct(centreHears)})`);
    const kept = await streamEntries(lab.redis, `${lab.prefix}:emergency-events`);
    t.match(
      kept.at(-1),
      { callId: c.callId, agentId: 'c1', number: '120' },
      'the hand-off is kept as an emergency event',
    );

    await page.locator('[data-test=call-hang-up]').click(); // the agent leaves; the citizen stays with 120
    await reader.stateShown('wrap-up', 10_000);
    t.same((await bridgeChannels(c.callId)).sort(), [c.callId, emergencyLeg].sort(), 'the citizen stays with 120');
    const alone = await centreHearsAgent(emergencyLeg);
    t.ok(alone < 0.1, `and 120 no longer hears the agent (${pct(alone)})`);
    await lab.ari('DELETE', `/channels/${emergencyLeg}`); // 120 hangs up
    t.equal((await c.sipp.done).exitCode, 0, 'then the citizen is hung up on');
    const invite = await inviteLine(centre);
    t.match(invite.line, /^INVITE sip:120@/, 'the emergency trunk was asked for 120');
    t.match(invite.text, new RegExp(`From:[^\\n]*${caller}`), "presenting the citizen's number, so 120 can call back");
    await page.locator('[data-test=end-wrap-up]').click();
    await reader.stateShown('ready');
    t.same(desk.browser.errors, [], 'no console errors');
  },
);
