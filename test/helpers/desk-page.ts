// The agent desk in a real browser, set up as test/browser/desk.test.ts does it: one WebRTC
// agent in an ACD lab, the controller, ICE limited to the veth's root address (pjlib skips
// loopback), the page's Chromium in a network namespace with a fake microphone playing a
// steady tone, and the audio probe. Plus the few ways a test reads what the desk shows:
// the agent's state, a panel's notices, an element's words. Nothing here clicks a control;
// the tests do that, so what they prove is what a person would do.

import { type AcdLab, acdQueuesWith, startAcdLab } from './acd-lab.js';
import { type ProbeApp, readWav, testApp } from './audio.js';
import { ensurePagesBuilt, type TestBrowser } from './browser.js';
import { ControllerProcess } from './controller.js';
import { until } from './lab.js';
import { createNetns, type Netns } from './netns.js';
import { browserInNetns, iceOnVeth, toneMicrophone } from './webrtc.js';

export interface DeskLab {
  acdLab: AcdLab;
  controller: ControllerProcess;
  browser: TestBrowser;
  probe: ProbeApp;
  agentId: string;
  password: string;
  close(): Promise<void>;
}

/** A desk lab whose one agent (`agentId`, 王芳) uses the page's phone, its microphone at `micHz`. */
export async function startDeskLab(name: string, slot: number, agentId: string, micHz: number): Promise<DeskLab> {
  await ensurePagesBuilt();
  const password = `${name}-password-1`;
  let netns: Netns | undefined;
  let acdLab: AcdLab | undefined;
  let controller: ControllerProcess | undefined;
  let probe: ProbeApp | undefined;
  let browser: TestBrowser | undefined;
  const close = async (): Promise<void> => {
    probe?.close();
    await browser?.close();
    await controller?.kill('SIGKILL');
    await acdLab?.close();
    netns?.close();
  };
  try {
    netns = createNetns();
    acdLab = await startAcdLab(
      name,
      slot,
      [{ id: agentId, skills: { general: 5 }, scenario: 'none', device: 'webrtc' }],
      {
        queues: acdQueuesWith(`  ringSeconds: 20
  wrapUpSeconds: 60
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
    const put = await controller.api('PUT', `/api/people/${agentId}`, { role: 'agent', displayName: '王芳', password });
    if (put.status !== 201) throw new Error(`PUT /api/people/${agentId}: ${put.status} ${JSON.stringify(put.body)}`);
    probe = await testApp(lab);
    browser = await browserInNetns(netns, [lab.ports.controller, lab.ports.ari], toneMicrophone(name, micHz, 360));
  } catch (err) {
    await close();
    throw err;
  }
  return { acdLab, controller, browser, probe, agentId, password, close };
}

/** What the desk shows; every reader waits a little, since the API's answer may follow the stream. */
export function deskReader(browser: TestBrowser) {
  const { page } = browser;
  const text = async (selector: string): Promise<string> =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();
  const shownState = (): Promise<string | null> => page.locator('[data-test=agent-state]').getAttribute('data-state');
  /** What a panel of the desk has said lately (its notices, newest first), in one string. */
  const said = async (area: 'state' | 'call'): Promise<string> =>
    (await page.locator(`[data-test=${area}-notice]`).allTextContents()).join(' | ');
  return {
    text,
    shownState,
    said,
    async stateShown(state: string, timeoutMs = 5_000): Promise<void> {
      await until(`the page shows ${state}`, async () => (await shownState()) === state, timeoutMs, 50).catch(
        async (err: Error) => {
          throw new Error(`${err.message}; the page shows ${await shownState()}`);
        },
      );
    },
    /** Whether the panel says this within `timeoutMs`. */
    saysSoon: (area: 'state' | 'call', words: RegExp, timeoutMs = 5_000): Promise<boolean> =>
      until(`the ${area} panel says ${String(words)}`, async () => words.test(await said(area)), timeoutMs, 50).then(
        () => true,
        () => false,
      ),
  };
}

/**
 * The share of 100 ms windows of a WAV (8 kHz, as `listen` records) in which `hz` carries at
 * least `minShare` of the energy. toneReport asks for a quarter, right for one voice; where a
 * party hears two tones mixed (the citizen's loud SIPp tone and the page's quieter one, which
 * the browser's audio processing lowers) the quieter may hold less, and still be plainly heard.
 */
export function mixedToneWindows(file: string, hz: number, minShare = 0.05): number {
  const samples = readWav(file);
  const n = 800;
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let windows = 0;
  let carrying = 0;
  for (let start = 0; start + n <= samples.length; start += n) {
    let s1 = 0;
    let s2 = 0;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const x = samples[start + i]!;
      energy += x * x;
      const s0 = x + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    windows++;
    const share = (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((n / 2) * Math.max(energy, 1));
    if (energy > n * 100 * 100 && share >= minShare) carrying++;
  }
  return windows ? carrying / windows : 0;
}
