// The browser phone with real audio: an agent whose roster device is `webrtc` signs in on
// /agent, the page's JsSIP phone registers over Asterisk's WebSocket (the page says so and
// Asterisk agrees), a SIPp citizen dials the hotline and waits in the queue, the page shows
// the call, the test clicks Answer, and sound is proved both ways: the citizen's 600 Hz tone
// is found in the page's remote stream (a WebAudio analyser, Goertzel at 600 Hz) and the
// page's fake microphone (a WAV of 1500 Hz) is found in what Asterisk sends the citizen (an
// ARI snoop). Then Hang up in the page ends the call.
//
// Layout, all on this machine: pjlib (Asterisk's ICE) offers no loopback candidates, so the
// test makes a network namespace joined to the root one by a veth pair (198.18.0.1 root side,
// 198.18.0.2 inside). Chromium runs inside it (a wrapper script: ip netns exec); its
// 127.0.0.1:PORT for the controller and for Asterisk's HTTP server is relayed to the root
// namespace's, so the page still loads from 127.0.0.1, a secure context where getUserMedia
// works over plain http. Asterisk stays where every test runs it, offering only 198.18.0.1 as
// its ICE candidate; the browser has only 198.18.0.2: media can only cross the veth.
// See test/helpers/netns.ts.

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { listen, type ProbeApp, testApp, tonePcap } from '../helpers/audio.js';
import { ensurePagesBuilt, resultsDir, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { streamEntries, until } from '../helpers/lab.js';
import { createNetns, INNER_ADDRESS, type Netns } from '../helpers/netns.js';
import { pageHearsTone } from '../helpers/page-tone.js';
import { browserInNetns, iceOnVeth, signInWithPhone, toneMicrophone } from '../helpers/webrtc.js';

const CITIZEN_HZ = 600;
const AGENT_HZ = 1500;

let netns: Netns;
let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
let probe: ProbeApp;

t.before(async () => {
  await ensurePagesBuilt();
  netns = createNetns();
  acdLab = await startAcdLab('phone', 53, [{ id: 'w1', skills: { general: 5 }, scenario: 'none', device: 'webrtc' }], {
    queues: acdQueuesWith(`  ringSeconds: 20
  wrapUpSeconds: 2
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
  });
  const { lab } = acdLab;
  await iceOnVeth(lab);
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  const put = await controller.api('PUT', '/api/people/w1', {
    role: 'agent',
    displayName: '李娜',
    password: 'desk-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/w1: ${put.status} ${JSON.stringify(put.body)}`);
  probe = await testApp(lab);
  const wav = toneMicrophone('phone', AGENT_HZ, 90);
  browser = await browserInNetns(netns, [lab.ports.controller, lab.ports.ari], wav);
});

t.teardown(async () => {
  probe?.close();
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  netns?.close();
});

/** Share of 50 ms frames of the page's remote stream in which `hz` dominates. */
const remoteTone = (hz: number, ms: number): Promise<number> =>
  pageHearsTone(browser.page, '[data-test=phone-remote-audio]', hz, ms);

t.test("the page's phone registers, answers a queued citizen, and audio flows both ways", async (t) => {
  const { page } = browser;
  const { lab } = acdLab;
  await signInWithPhone(page, `${controller.url}/agent/`, 'w1', 'desk-password-1');
  t.pass('the page says 电话：已注册');
  const endpoint = await lab.ari<{ state: string }>('GET', '/endpoints/PJSIP/agent-w1');
  t.equal(endpoint.body.state, 'online', 'Asterisk agrees: agent-w1 is online');
  t.match(
    await lab.asterisk.command('pjsip show contacts'),
    /agent-w1\/sip:/,
    'a contact of agent-w1 over the WebSocket',
  );

  const audit = await streamEntries(lab.redis, `${lab.prefix}:audit:sign-in`);
  t.ok(
    audit.some((e) => e.event === 'phone-credentials' && e.agentId === 'w1'),
    "the hand-out of the phone's credentials is audited",
  );
  const asAdmin = await controller.api('GET', '/api/session/phone');
  t.equal(asAdmin.status, 403, 'a token that is no agent gets no phone credentials');
  const anonymous = await fetch(`${controller.url}/api/session/phone`);
  t.equal(anonymous.status, 401, 'nor does anyone not signed in');

  t.equal((await controller.api('POST', '/api/agents/w1/login', {})).status, 200, 'w1 logs in');
  const ready = await controller.api('POST', '/api/agents/w1/ready');
  t.ok(ready.status === 200 || ready.status === 409, `w1 is ready (${ready.status})`);

  const caller = '13800138000';
  const c = citizen(lab, controller, { did: '7001', caller, steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }] });
  await c.entered;
  const call = page.locator('[data-test=phone-call]');
  await until(
    'the page shows the incoming call',
    async () => /^来电：/.test((await call.textContent()) ?? ''),
    20_000,
    100,
  );
  t.match(await call.textContent(), /^来电：/, `the page shows the call (${await call.textContent()})`);
  await page.getByRole('button', { name: '接听' }).click();
  await until('the page is talking', async () => /^通话中：/.test((await call.textContent()) ?? ''), 10_000, 100);
  await c.log(LogEvent.callConnectedToAgent, 15_000);
  t.pass('the controller connected the citizen to w1');

  const citizenChannel = await until(
    "the citizen's channel",
    async () => {
      const { body } = await lab.ari<Array<{ id: string; name: string }>>('GET', '/channels');
      return body.find((ch) => ch.name.startsWith('PJSIP/pstn'))?.id;
    },
    5_000,
  );
  const agentChannel = await until(
    "the agent's channel",
    async () => {
      const { body } = await lab.ari<Array<{ id: string; name: string }>>('GET', '/channels');
      return body.find((ch) => ch.name.startsWith('PJSIP/agent-w1'))?.id;
    },
    5_000,
  );
  const rtpDest = await lab.ari<{ value: string }>(
    'GET',
    `/channels/${agentChannel}/variable?variable=${encodeURIComponent('CHANNEL(rtp,dest)')}`,
  );
  t.match(
    rtpDest.body.value,
    new RegExp(`^${INNER_ADDRESS.replaceAll('.', '\\.')}:\\d+$`),
    `the agent's media goes over the veth (${rtpDest.body.value})`,
  );
  const inPage = await remoteTone(CITIZEN_HZ, 2_000);
  t.ok(
    inPage >= 0.5,
    `the citizen's ${CITIZEN_HZ} Hz tone is heard in the page (${(inPage * 100).toFixed(0)} % of frames)`,
  );
  const otherInPage = await remoteTone(AGENT_HZ, 1_000);
  t.ok(otherInPage < 0.2, `and not the agent's own tone (${(otherInPage * 100).toFixed(0)} %)`);
  const heard = await listen(lab, probe, citizenChannel, 'citizen-hears-page', 2_000, AGENT_HZ);
  t.ok(
    heard.toneWindows >= 0.5,
    `the page's microphone (${AGENT_HZ} Hz) reaches the citizen (${(heard.toneWindows * 100).toFixed(0)} % of windows, rms ${heard.rms.toFixed(0)})`,
  );
  await browser.screenshot('agent-phone-in-call');
  t.pass(`screenshot in ${resultsDir}`);

  // While the desk shows the call, hanging up and muting are Call controls' only: one of each on the screen.
  t.equal(await page.locator('[data-test=phone-hang-up]').count(), 0, "the phone's own hang-up gives way");
  t.equal(await page.locator('[data-test=phone-mute]').count(), 0, 'and its own mute');
  t.match(await page.locator('[data-test=phone-controls-in-desk]').textContent(), /通话控制/, 'it says where they are');

  // Mute from the keyboard: the button is reachable, pressed state announced, the citizen hears nothing of the page.
  const mute = page.getByRole('button', { name: /^闭麦/ });
  await mute.focus();
  await page.keyboard.press('Enter');
  const unmute = page.getByRole('button', { name: /^开麦/ });
  await unmute.waitFor();
  t.equal(await unmute.getAttribute('aria-pressed'), 'true', 'the button says it is pressed');
  const muted = await listen(lab, probe, citizenChannel, 'citizen-hears-muted', 1_500, AGENT_HZ);
  t.ok(
    muted.toneWindows < 0.2,
    `muted, the citizen no longer hears the page (${(muted.toneWindows * 100).toFixed(0)} % of windows)`,
  );
  await unmute.click(); // the button was disabled while the mute was applied, so it lost the focus
  await mute.waitFor();

  await page.getByRole('button', { name: /^结束通话/ }).click();
  await until('the page is idle again', async () => (await call.textContent()) === '空闲，等待来电', 10_000, 100);
  await until(
    "the citizen's channel is gone",
    async () => {
      const { body } = await lab.ari<Array<{ id: string }>>('GET', '/channels');
      return !body.some((ch) => ch.id === citizenChannel);
    },
    10_000,
  );
  t.pass("the desk's End call ends the call");
  await c.sipp.done.catch(() => undefined);
  t.same(browser.errors, [], 'no console errors');
});

t.test(
  "when the phone's connection drops, the page says it is reconnecting and registers again by itself",
  async (t) => {
    const { lab } = acdLab;
    const status = browser.page.locator('[data-test=phone-status]');
    t.equal(await status.textContent(), '电话：已注册', 'registered before the drop');
    await lab.asterisk.stop(); // the WebSocket closes under the page
    await until(
      'the page says it is reconnecting',
      async () => (await status.textContent()) === '电话：网络中断，正在重新注册',
      10_000,
      100,
    );
    t.pass('the page says 电话：网络中断，正在重新注册');
    await lab.asterisk.start();
    await until('the page registers again', async () => (await status.textContent()) === '电话：已注册', 30_000, 200);
    t.equal(
      (await lab.ari<{ state: string }>('GET', '/endpoints/PJSIP/agent-w1')).body.state,
      'online',
      'Asterisk has the contact again',
    );
    await browser.screenshot('agent-phone-registered-again');
  },
);
