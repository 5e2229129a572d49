// The agent desk, by clicking, against the real controller, Asterisk and SIPp: an agent signs
// in, logs in and goes ready in the page; a SIPp citizen who asked for privacy calls; the
// screen pop shows the line, the masked caller and what they keyed in; the agent answers on
// the page's phone, puts the citizen on hold (the citizen hears music and not the page's
// microphone), resumes, mutes from the keyboard, transfers the citizen to a service-centre
// window (a SIPp phone on the public trunk answers as 不动产登记窗口), and the wrap-up
// countdown shows until "end wrap-up" makes them ready. Then the resync: the page's network
// drops (its event stream and API requests fail) while the agent's state changes and a
// second citizen's call is offered; within 2 s of the stream reconnecting the page shows
// the state and the new call's screen pop, unmasked.
//
// The browser runs in a network namespace as in phone.test.ts (which explains why); the
// test's own setup is the same.

import type { WebSocketRoute } from 'playwright-core';
import t from 'tap';

import { maskNumber } from '../../src/calls/privacy.js';
import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { listen, type ProbeApp, testApp, tonePcap } from '../helpers/audio.js';
import { ensurePagesBuilt, resultsDir, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep, until } from '../helpers/lab.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { runSipp, startLine } from '../helpers/sipp.js';
import { browserInNetns, iceOnVeth, signInWithPhone, toneMicrophone } from '../helpers/webrtc.js';

const CITIZEN_HZ = 600;
const AGENT_HZ = 1500;

let netns: Netns;
let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
let probe: ProbeApp;

/**
 * The page's network as the test controls it: the event stream passes through a route the
 * test can close, and while `down` every new stream is refused and every API request fails;
 * the API comes back only when the stream reconnects, so what the page shows after that is
 * the reconnect's doing (or the 5 s safety refetch's, which must not be needed).
 */
const network: { down: boolean; apiDown: boolean; reconnectedAt: number; drop?: () => Promise<void> } = {
  down: false,
  apiDown: false,
  reconnectedAt: 0,
};

t.before(async () => {
  await ensurePagesBuilt();
  netns = createNetns();
  acdLab = await startAcdLab('desk', 57, [{ id: 'd1', skills: { general: 5 }, scenario: 'none', device: 'webrtc' }], {
    queues: acdQueuesWith(`  ringSeconds: 20
  wrapUpSeconds: 60
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
  });
  const { lab } = acdLab;
  await iceOnVeth(lab);
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  const put = await controller.api('PUT', '/api/people/d1', {
    role: 'agent',
    displayName: '王芳',
    password: 'desk-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/d1: ${put.status} ${JSON.stringify(put.body)}`);
  probe = await testApp(lab);
  const wav = toneMicrophone('desk', AGENT_HZ, 240);
  browser = await browserInNetns(netns, [lab.ports.controller, lab.ports.ari], wav);
  await browser.page.routeWebSocket(/\/api\/events$/, (ws: WebSocketRoute) => {
    if (network.down) {
      void ws.close({ code: 4000, reason: 'network down' });
      return;
    }
    network.reconnectedAt = Date.now();
    network.apiDown = false;
    const server = ws.connectToServer();
    network.drop = async () => {
      await server.close();
      await ws.close({ code: 4000, reason: 'network down' });
    };
  });
  await browser.page.route(/\/api\//, (route) =>
    network.apiDown ? route.abort('internetdisconnected') : route.fallback(),
  );
});

t.teardown(async () => {
  probe?.close();
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  netns?.close();
});

const shownState = (): Promise<string | null> =>
  browser.page.locator('[data-test=agent-state]').getAttribute('data-state');

async function stateShown(state: string, timeoutMs = 5_000): Promise<void> {
  await until(`the page shows ${state}`, async () => (await shownState()) === state, timeoutMs, 50).catch(
    async (err: Error) => {
      throw new Error(`${err.message}; the page shows ${await shownState()}`);
    },
  );
}

async function serverState(): Promise<string> {
  return (await controller.api<{ state: string }>('GET', '/api/agents/d1')).body.state;
}

const text = async (selector: string): Promise<string> =>
  ((await browser.page.locator(selector).textContent()) ?? '').trim();

/** What a panel of the desk has said lately (its notices, newest first), in one string. */
const said = async (area: 'state' | 'call'): Promise<string> =>
  (await browser.page.locator(`[data-test=${area}-notice]`).allTextContents()).join(' | ');

/** Whether the panel says this within 5 s (the API's answer may come after the stream's news). */
const saysSoon = (area: 'state' | 'call', words: RegExp): Promise<boolean> =>
  until(`the ${area} panel says ${String(words)}`, async () => words.test(await said(area)), 5_000, 50).catch(
    () => false,
  );

t.test(
  'by clicking: ready, a masked screen pop, answer, hold with music, resume, a transfer to a window, wrap-up, ready',
  async (t) => {
    const { page } = browser;
    const { lab } = acdLab;
    await signInWithPhone(page, `${controller.url}/agent/`, 'd1', 'desk-password-1');

    await stateShown('logged-out');
    t.equal(await text('[data-test=agent-state]'), '未签入', 'the state is said in words: 未签入');
    await page.locator('[data-test=state-log-in]').click();
    await stateShown('not-ready');
    t.equal(await serverState(), 'not-ready', 'log in (clicked): not ready on the server');
    t.equal(await page.locator('[data-test=agent-reason]').count(), 0, 'logged in, with no reason of the roster');
    t.ok(await saysSoon('state', /已签入/), 'the result is said in words');
    const reasons = await page.locator('[data-test=state-reason] option').allTextContents();
    t.same(reasons.slice(0, 4), ['小休', '培训', '会议', '用餐'], "the roster's reasons are offered");
    await page.locator('[data-test=state-ready]').click();
    await stateShown('ready');
    t.equal(await serverState(), 'ready', 'ready (clicked)');
    t.equal(await text('[data-test=agent-state]'), '就绪');
    t.match(await page.locator('[data-test=state-ready]').getAttribute('aria-keyshortcuts'), 'F9');

    // 7008: the flow marks the caller as asking for privacy (and keys in a topic).
    const caller = '13800138001';
    const c = citizen(lab, controller, { did: '7008', caller, steps: [{ pcap: tonePcap(CITIZEN_HZ, 120) }] });
    await until('the screen pop', async () => (await text('[data-test=pop-line]')) !== '', 20_000, 50);
    t.equal(await text('[data-test=pop-line]'), '7008', 'the pop names the line');
    t.equal(await text('[data-test=pop-did]'), '7008', 'and the number dialled');
    t.equal(await text('[data-test=pop-caller] .number'), maskNumber(caller), 'the caller only in its masked form');
    t.not(await text('[data-test=pop-caller]'), caller, 'never the whole number');
    t.equal(await text('[data-test=pop-caller-masked]'), '号码已隐藏', 'and the page says it is masked');
    t.equal(await text('[data-test=pop-privacy]'), '来电人要求保密', 'the privacy flag');
    t.match(await text('[data-test=pop-digits]'), /topic = 不动产/, 'what the flow collected');
    t.match(await text('[data-test=pop-wait]'), /^\d+(\.\d)? 秒$/, 'the wait');
    await stateShown('reserved');

    await page.locator('[data-test=phone-answer]').click();
    const callId = String((await c.log(LogEvent.callConnectedToAgent, 15_000)).callId);
    await stateShown('on-call');
    await until('the pop says talking', async () => /^通话中/.test(await text('[data-test=pop-phase]')), 5_000, 50);
    const talking = await listen(lab, probe, callId, 'desk-talking', 1_500, AGENT_HZ);
    t.ok(talking.toneWindows >= 0.5, `before hold the citizen hears the page (${pct(talking.toneWindows)})`);

    await page.locator('[data-test=call-hold]').click();
    await until(
      'the page says on hold',
      async () => (await text('[data-test=call-hold]')).startsWith('恢复通话'),
      5_000,
    );
    t.ok(await saysSoon('call', /已保持/), 'hold: said in words');
    const held = await listen(lab, probe, callId, 'desk-held', 2_500, AGENT_HZ);
    t.ok(held.toneWindows < 0.1, `on hold the citizen does not hear the page (${pct(held.toneWindows)})`);
    t.ok(held.rms > 200, `on hold the citizen hears music, not silence (rms ${Math.round(held.rms)})`);
    await browser.screenshot('agent-desk-on-hold');
    t.pass(`screenshot in ${resultsDir}`);
    await page.locator('[data-test=call-hold]').click();
    await until(
      'the page says talking again',
      async () => (await text('[data-test=call-hold]')).startsWith('保持'),
      5_000,
    );
    const back = await listen(lab, probe, callId, 'desk-back', 1_500, AGENT_HZ);
    t.ok(back.toneWindows >= 0.5, `resumed, the citizen hears the page again (${pct(back.toneWindows)})`);

    // Mute from the keyboard (F8), with the focus in the window search box: F-keys type nothing.
    await page.locator('[data-test=window-search]').focus();
    await page.keyboard.press('F8');
    await until(
      'muted',
      async () => (await page.locator('[data-test=call-mute]').getAttribute('aria-pressed')) === 'true',
    );
    const call = await controller.api<{ call: { muted: boolean } }>('GET', '/api/agents/d1/call');
    t.equal(call.body.call.muted, true, 'F8 muted the agent on the server');
    await page.keyboard.press('F8');
    await until(
      'unmuted',
      async () => (await page.locator('[data-test=call-mute]').getAttribute('aria-pressed')) === 'false',
    );

    // The window directory, searched, then a blind transfer to 不动产登记窗口 (its number on the trunk).
    await page.locator('[data-test=window-search]').fill('不动产');
    t.equal(
      await page.locator('[data-test=window-directory] [role=radiogroup] label').count(),
      1,
      'the search leaves one window',
    );
    const window = runSipp({
      scenario: 'agent-answers.xml',
      localPort: lab.ports.sipp + 9,
      mediaPort: lab.ports.sippMedia + 90,
      timeoutSec: 90,
    });
    await page.locator('[data-test=window-bdc] input').check();
    await browser.screenshot('agent-desk-in-call');
    await page.locator('[data-test=transfer-blind]').click();
    await until('the transfer is said', async () => /已转接至/.test(await said('call')), 10_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}; the page says "${await said('call')}"`);
      },
    );
    t.match(await said('call'), /不动产登记窗口/, 'the page names the window');
    await stateShown('wrap-up', 10_000);
    t.equal(await text('[data-test=agent-state]'), '话后整理', 'the agent is in wrap-up');
    const countdown = page.locator('[data-test=wrap-up-countdown]');
    const first = Number(/(\d+)/.exec((await countdown.textContent()) ?? '')?.[1]);
    t.ok(first > 50 && first <= 60, `the countdown shows the seconds left (${first})`);
    await sleep(2_100);
    const later = Number(/(\d+)/.exec((await countdown.textContent()) ?? '')?.[1]);
    t.ok(later <= first - 1, `and counts down (${first} → ${later})`);
    const windowLeg = await until(
      "the window's channel",
      async () => {
        const { body } = await lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
        return body.channels?.length === 2 ? body.channels.find((ch) => ch !== callId) : undefined;
      },
      10_000,
    );
    t.ok(windowLeg, 'the citizen talks to the window, the agent is out of the bridge');

    await page.locator('[data-test=end-wrap-up]').click();
    await stateShown('ready');
    t.equal(await serverState(), 'ready', '"end wrap-up" (clicked): ready');
    t.equal(await page.locator('[data-test=wrap-up-countdown]').count(), 0, 'no countdown any more');

    await lab.ari('DELETE', `/channels/${windowLeg}`); // the window hangs up
    t.equal((await c.sipp.done).exitCode, 0, 'then the citizen is hung up on');
    const invite = (await window.done).messages.find((m) => startLine(m.text).startsWith('INVITE'));
    t.match(startLine(invite?.text ?? ''), /^INVITE sip:02367720001@/, "the window's number was dialled on the trunk");
    t.same(browser.errors, [], 'no console errors');
  },
);

t.test('after the network drops, the page shows the true state and call within 2 s of reconnecting', async (t) => {
  const { page } = browser;
  const { lab } = acdLab;
  await stateShown('ready');
  network.down = true;
  network.apiDown = true;
  await network.drop?.();
  await until(
    'the header says the stream is reconnecting',
    async () => (await text('[data-test=stream-status]')) === '实时连接：正在重连',
    5_000,
    50,
  );
  t.pass('the header says 实时连接：正在重连');

  // While the page is cut off: a citizen's call is offered to the agent, and the agent's
  // supervisor (here the admin token) asks for 会议 after the call.
  const caller = '13800138002';
  const c = citizen(lab, controller, { did: '7001', caller, steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }] });
  await until('the call is offered to d1', async () => (await serverState()) === 'reserved', 20_000, 50);
  const asked = await controller.api('POST', '/api/agents/d1/not-ready', { reason: 'meeting' });
  t.equal(asked.status, 200, 'not ready (会议) after the call, asked while the page is cut off');
  await sleep(500);
  t.equal(await shownState(), 'ready', 'the cut-off page still shows what it last knew');
  t.equal(await page.locator('[data-test=pop-line]').count(), 0, 'and no screen pop');

  network.down = false; // the next reconnect attempt goes through, and brings the API back
  await until('the stream reconnects', () => network.reconnectedAt > 0 && !network.apiDown, 15_000, 20);
  const from = network.reconnectedAt;
  await until(
    'the page shows the offered call',
    async () =>
      (await shownState()) === 'reserved' &&
      (await text('[data-test=pop-caller] .number')) === caller &&
      (await page.locator('[data-test=not-ready-after-call]').count()) === 1,
    5_000,
    20,
  );
  const ms = Date.now() - from;
  t.ok(ms <= 2_000, `within ${ms} ms of reconnecting the page shows reserved, the pop and 会议 after the call`);
  t.equal(await page.locator('[data-test=pop-caller-masked]').count(), 0, 'this caller is not masked');
  t.match(await text('[data-test=not-ready-after-call]'), /会议/, 'the reason after the call is named');
  t.equal(await text('[data-test=stream-status]'), '实时连接：正常', 'and the stream is live again');
  await browser.screenshot('agent-desk-resynced');

  // Answer, end the call from the desk: wrap-up, then not ready (会议) as asked.
  await page.locator('[data-test=phone-answer]').click();
  await stateShown('on-call', 10_000);
  await page.locator('[data-test=call-hang-up]').click();
  await stateShown('wrap-up', 10_000);
  t.equal((await c.sipp.done).exitCode, 0, '结束通话 (clicked) ended the call');
  await page.locator('[data-test=end-wrap-up]').click();
  await stateShown('not-ready');
  t.equal(await text('[data-test=agent-reason]'), '会议', 'then not ready with the reason asked during the call');
});

t.test(
  'by clicking: consult a window, see its progress in words, join all three, leave the citizen with it',
  async (t) => {
    const { page } = browser;
    const { lab } = acdLab;
    await page.locator('[data-test=state-ready]').click();
    await stateShown('ready');
    const c = citizen(lab, controller, {
      did: '7001',
      caller: '13800138003',
      steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }],
    });
    await until('ringing', async () => (await text('[data-test=phone-call]')).startsWith('来电'), 20_000, 50);
    await page.keyboard.press('F2'); // answer from the keyboard (the page's phone)
    const callId = String((await c.log(LogEvent.callConnectedToAgent, 15_000)).callId);
    await stateShown('on-call');
    t.pass('F2 answered the call on the page phone');

    const window = runSipp({
      scenario: 'agent-answers.xml',
      localPort: lab.ports.sipp + 9,
      mediaPort: lab.ports.sippMedia + 90,
      timeoutSec: 90,
    });
    await page.locator('[data-test=window-search]').fill('不动产');
    await page.locator('[data-test=window-bdc] input').check();
    await page.locator('[data-test=transfer-consult]').click();
    const consultState = page.locator('[data-test=consult-state]');
    await until(
      'the window answered',
      async () => /^正在与 .*不动产登记窗口 通话/.test(await text('[data-test=consult-state]')),
      15_000,
      50,
    ).catch(async (err: Error) => {
      const shown = (await consultState.count()) ? await consultState.textContent() : await said('call');
      throw new Error(`${err.message}; the page says "${shown}"`);
    });
    t.ok(await saysSoon('call', /不动产登记窗口 已接听/), 'the stream says the window answered, in words');
    await page.locator('[data-test=consult-conference]').click();
    await until('all three', async () => /^三方通话中/.test(await text('[data-test=consult-state]')), 10_000, 50);
    const bridge = await lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
    t.equal(bridge.body.channels.length, 3, 'citizen, agent and window in one bridge');

    await page.locator('[data-test=call-hang-up]').click(); // the agent leaves: a warm hand-off
    await stateShown('wrap-up', 10_000);
    const after = await lab.ari<{ channels: string[] }>('GET', `/bridges/${callId}-talk`);
    t.equal(after.body.channels.length, 2, 'the citizen stays with the window');
    await page.locator('[data-test=end-wrap-up]').click();
    await stateShown('ready');
    const windowLeg = after.body.channels.find((ch) => ch !== callId);
    await lab.ari('DELETE', `/channels/${windowLeg}`);
    t.equal((await c.sipp.done).exitCode, 0, 'the citizen is hung up on when the window leaves');
    await window.done;
  },
);

const pct = (x: number): string => `${Math.round(x * 100)}%`;
