// The browser phone's remaining features in a real Chromium against the real controller and
// Asterisk: the microphone and speaker choice (listed, remembered, and a vanished device said
// in words with the default used instead), two tabs of the same agent (the newest holds the
// phone, the older one unregisters and says so, take-back works, closing the phone's tab hands
// it back), a seat the roster marks autoAnswer answering a SIPp citizen's call without a
// click, and a seat without it ringing audibly until Answer. Chromium runs in a network
// namespace as in phone.test.ts, so the WebRTC calls really connect.

import type { Page } from 'playwright-core';
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ensurePagesBuilt, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { until } from '../helpers/lab.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { browserInNetns, iceOnVeth, toneMicrophone } from '../helpers/webrtc.js';

let netns: Netns;
let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
let wav: string;

const REGISTERED = '电话：已注册';

t.before(async () => {
  await ensurePagesBuilt();
  netns = createNetns();
  acdLab = await startAcdLab(
    'phone-devices',
    92,
    [
      { id: 'x1', skills: { general: 5 }, scenario: 'none', device: 'webrtc', autoAnswer: true },
      { id: 'y1', skills: { special: 5 }, scenario: 'none', device: 'webrtc' },
    ],
    {
      queues: acdQueuesWith(`  ringSeconds: 20
  wrapUpSeconds: 1
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
    },
  );
  const { lab } = acdLab;
  await iceOnVeth(lab);
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  for (const id of ['x1', 'y1']) {
    const put = await controller.api('PUT', `/api/people/${id}`, { role: 'agent', password: `desk-${id}-pass` });
    if (put.status !== 201) throw new Error(`PUT /api/people/${id}: ${put.status} ${JSON.stringify(put.body)}`);
  }
  wav = toneMicrophone('phone-devices', 1000, 120, 0.3);
  browser = await browserInNetns(netns, [lab.ports.controller, lab.ports.ari], wav);
});

t.teardown(async () => {
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  netns?.close();
});

async function signIn(page: Page, id: string): Promise<void> {
  await page.goto(`${controller.url}/agent/`);
  await page.getByLabel('工号或用户名').fill(id);
  await page.getByLabel('密码', { exact: true }).fill(`desk-${id}-pass`);
  await page.getByRole('button', { name: '登录' }).click();
}

async function registered(page: Page, label: string): Promise<void> {
  const status = page.locator('[data-test=phone-status]');
  await until(label, async () => (await status.textContent().catch(() => null)) === REGISTERED, 15_000, 100).catch(
    async (err: Error) => {
      throw new Error(`${err.message}; page shows "${await status.textContent().catch(() => '?')}"`);
    },
  );
}

/** The Contact URIs Asterisk holds for an agent's endpoint. */
async function contacts(id: string): Promise<string[]> {
  const out = await acdLab.lab.asterisk.command('pjsip show contacts');
  return [...out.matchAll(new RegExp(`Contact:\\s+agent-${id}/(sip:\\S+)`, 'g'))].map((m) => m[1]!);
}

t.test('the microphone and speaker are chosen in the page, remembered, and a vanished one is said', async (t) => {
  const { page } = browser;
  await signIn(page, 'x1');
  await registered(page, 'the phone registers');
  const mic = page.locator('[data-test=phone-microphone]');
  await until('the microphones are listed', async () => (await mic.locator('option').count()) > 1, 5_000, 100);
  const options = await mic
    .locator('option')
    .evaluateAll((els) => els.map((e) => ({ value: (e as HTMLOptionElement).value, text: e.textContent ?? '' })));
  t.equal(options[0]?.text, '系统默认', 'the first choice is the system default');
  t.ok(options.length >= 2, `the browser's microphones are offered (${options.map((o) => o.text).join(', ')})`);
  t.equal(await page.getByLabel('麦克风', { exact: true }).count(), 1, 'the choice is labelled for screen readers');
  const chosen = options[options.length - 1]!;
  await mic.selectOption(chosen.value);
  await until(
    'the choice is remembered',
    async () => (await page.evaluate(() => localStorage.getItem('rexian.devices.microphone'))) !== null,
    3_000,
    100,
  );
  const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('rexian.devices.microphone')))!) as {
    id: string;
    label: string;
  };
  t.same(stored, { id: chosen.value, label: chosen.text }, 'remembered in this browser with its name');
  const speaker = page.locator('[data-test=phone-speaker]');
  t.equal(await speaker.count(), 1, 'Chromium can choose a speaker (setSinkId): the choice is offered');

  await page.reload();
  await registered(page, 'registered again after a reload');
  await until(
    'the remembered microphone is used again',
    async () => (await mic.inputValue()) === chosen.value,
    5_000,
    100,
  );
  t.pass(`after a reload the remembered microphone is in use (${chosen.text})`);
  t.equal(await page.locator('[data-test=phone-microphone-vanished]').count(), 0, 'and nothing is said to be gone');

  // A headset that is no longer plugged in: remembered, but not among the devices.
  await page.evaluate(() =>
    localStorage.setItem('rexian.devices.microphone', JSON.stringify({ id: 'gone-headset', label: '旧耳麦 USB' })),
  );
  await page.reload();
  await registered(page, 'registered with the default microphone');
  const vanished = page.locator('[data-test=phone-microphone-vanished]');
  await vanished.waitFor({ timeout: 5_000 });
  t.equal(
    await vanished.textContent(),
    '之前选择的麦克风“旧耳麦 USB”已不可用，已改用系统默认麦克风。',
    'the page says in words that the chosen microphone is gone and the default is used',
  );
  t.equal(await mic.inputValue(), 'default', 'the default microphone is in use');
  t.ok((await page.locator('[data-test=phone-mic-level]').count()) === 1, 'the level meter is still there');
  await browser.screenshot('agent-phone-devices');
});

t.test(
  'of two tabs of the same agent the newest holds the phone; the older says so and can take it back',
  async (t) => {
    const first = browser.page;
    await registered(first, 'the first tab holds the phone');
    const firstContact = await until('the first tab is registered in Asterisk', async () => (await contacts('x1'))[0]);
    const second = await browser.context.newPage();
    await second.goto(`${controller.url}/agent/`); // signed in already: the session cookie is shared
    await registered(second, 'the second tab registers');
    const elsewhere = first.locator('[data-test=phone-elsewhere]');
    await elsewhere.waitFor({ timeout: 5_000 });
    t.match(await elsewhere.textContent(), /另一个标签页/, 'the older tab says the phone is in use in another tab');
    t.equal(await first.locator('[data-test=phone-status]').count(), 0, 'and shows no phone of its own');
    const secondContact = await until(
      "only the second tab's registration is left in Asterisk",
      async () => {
        const now = await contacts('x1');
        return now.length === 1 && now[0] !== firstContact ? now[0] : undefined;
      },
      10_000,
      200,
    );
    t.pass(`the older tab unregistered (${firstContact} gone, ${secondContact} there)`);
    t.equal(
      await first.locator('[data-test=agent-state]').count(),
      1,
      'the older tab is still a desk (its state shows)',
    );

    await first.locator('[data-test=phone-take-back]').click();
    await registered(first, 'the first tab takes the phone back');
    await second.locator('[data-test=phone-elsewhere]').waitFor({ timeout: 5_000 });
    t.pass('take-back: the first tab holds the phone, the second says it is in use elsewhere');
    await until(
      "Asterisk has the first tab's new registration only",
      async () => {
        const now = await contacts('x1');
        return now.length === 1 && now[0] !== secondContact;
      },
      10_000,
      200,
    );
    t.pass('the second tab unregistered');

    await second.locator('[data-test=phone-take-back]').click();
    await registered(second, 'the second tab takes it again');
    await elsewhere.waitFor({ timeout: 5_000 });
    await second.close({ runBeforeUnload: true });
    await registered(first, 'closing the tab that held the phone hands it to the other tab by itself');
    t.pass('the first tab took the phone by itself when the other tab closed');
    await until('one registration in Asterisk', async () => (await contacts('x1')).length === 1, 10_000, 200);
    t.same(browser.errors, [], 'no console errors');
  },
);

t.test('a seat the roster marks autoAnswer answers a queued call by itself', async (t) => {
  const { page } = browser;
  await registered(page, 'x1 is registered');
  t.equal((await controller.api('POST', '/api/agents/x1/login', {})).status, 200, 'x1 logs in');
  t.equal((await controller.api('POST', '/api/agents/x1/ready')).status, 200, 'and is ready');
  const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800138011' });
  await c.log(LogEvent.callConnectedToAgent, 20_000);
  t.pass('the controller connected the citizen to x1 without anyone clicking');
  const call = page.locator('[data-test=phone-call]');
  await until('the page is talking', async () => /^通话中：/.test((await call.textContent())?.trim() ?? ''), 10_000);
  t.pass('the page shows the call as talking');
  await page.getByRole('button', { name: /^结束通话/ }).click(); // the desk shows the call: Call controls end it
  await until('the page is idle', async () => (await call.textContent())?.trim() === '空闲，等待来电', 10_000, 100);
  await c.sipp.done.catch(() => undefined);
  await controller.api('POST', '/api/agents/x1/logout');
});

t.test(
  "the desk shows the agent's day with the call just taken, and the callers waiting in their queues",
  async (t) => {
    const { page } = browser;
    const taken = page.locator('[data-test=agent-day] [data-test=day-calls-taken]');
    await until(
      "the day counts x1's call",
      async () => (await taken.textContent().catch(() => null))?.trim() === '1',
      25_000,
    );
    t.pass('calls taken: 1, shortly after the call ended');
    t.match(
      await page.locator('[data-test=day-calls] tbody tr').first().textContent(),
      /13800138011/,
      "the call is listed with its caller (the queue's policy shows the full number)",
    );
    t.equal((await controller.api('POST', '/api/agents/x1/login', {})).status, 200, 'x1 logs in, not ready');
    const general = page.locator('[data-test=queue-waiting] [data-test=queue-row][data-queue=general]');
    // The previous test's caller may still be on the page's last figures: it refreshes every 2 s.
    const before = await until(
      'nobody waiting in general',
      async () => ((await general.getAttribute('data-waiting')) === '0' ? '0' : undefined),
      6_000,
      200,
    ).catch(async () => JSON.stringify((await controller.api('GET', '/api/agents/x1/queues')).body));
    t.equal(before, '0', 'nobody waits in general');
    const c = citizen(acdLab.lab, controller, { did: '7001', caller: '13800138013', hangUpAfterMs: 6_000 });
    await c.log(LogEvent.callQueued);
    await until(
      'the page shows one caller waiting',
      async () => (await general.getAttribute('data-waiting')) === '1',
      5_000,
    );
    t.pass('within 2 s of the refresh the page shows the caller waiting in general');
    await until(
      'the longest wait counts up',
      async () =>
        /^[1-9]\d* 秒$/.test((await general.locator('[data-test=queue-longest-wait]').textContent())?.trim() ?? ''),
      5_000,
    );
    await browser.screenshot('agent-day-and-queues');
    await c.sipp.done.catch(() => undefined);
    await until('nobody waits again', async () => (await general.getAttribute('data-waiting')) === '0', 8_000);
    t.pass('the caller hung up: nobody waiting');
    await controller.api('POST', '/api/agents/x1/logout');
  },
);

t.test('a seat without autoAnswer rings audibly until Answer, and the ring stops', async (t) => {
  const other = await launchBrowser({
    fakeMedia: { audioFile: wav },
    executablePath: netns.wrapper('/usr/bin/chromium'),
  });
  t.teardown(() => other.close());
  const page = other.page;
  // Every oscillator the page starts, with its frequency: the ring is made by WebAudio.
  await page.addInitScript(() => {
    const w = window as unknown as { oscillators: Array<{ hz: number; at: number }> };
    w.oscillators = [];
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
      w.oscillators.push({ hz: this.frequency.value, at: Date.now() });
      return start.call(this, when);
    };
  });
  const tones = (since: number) =>
    page.evaluate(
      (since) =>
        (window as unknown as { oscillators: Array<{ hz: number; at: number }> }).oscillators.filter(
          (o) => o.at >= since,
        ),
      since,
    );
  await signIn(page, 'y1');
  await registered(page, 'y1 is registered');
  t.equal((await controller.api('POST', '/api/agents/y1/login', {})).status, 200, 'y1 logs in');
  t.equal((await controller.api('POST', '/api/agents/y1/ready')).status, 200, 'and is ready');
  const c = citizen(acdLab.lab, controller, { did: '7003', caller: '13800138012' });
  const call = page.locator('[data-test=phone-call]');
  await until('the page rings', async () => (await call.getAttribute('data-ringing')) === 'true', 20_000, 100);
  t.match((await call.textContent())?.trim(), /^来电：/, 'the call is shown as ringing');
  await new Promise((r) => setTimeout(r, 3_500)); // more than one ring cycle (1 s on, 2 s off)
  const rung = await tones(0);
  t.ok(
    rung.filter((o) => o.hz === 450).length >= 2,
    `the page rings with a 450 Hz tone, again each cycle (${rung.length} tones)`,
  );
  await page.getByRole('button', { name: '接听' }).click();
  await until('the ring stops on answer', async () => (await call.getAttribute('data-ringing')) === 'false', 5_000, 50);
  const answeredAt = Date.now();
  await until('talking', async () => /^通话中：/.test((await call.textContent())?.trim() ?? ''), 10_000, 100);
  await new Promise((r) => setTimeout(r, 3_500));
  t.same(await tones(answeredAt), [], 'no ring once answered');
  t.pass('answered by clicking; the ring stopped');
  await page.getByRole('button', { name: /^结束通话/ }).click(); // the desk shows the call: Call controls end it
  await c.sipp.done.catch(() => undefined);
  await controller.api('POST', '/api/agents/y1/logout');
  t.same(other.errors, [], 'no console errors');
});
