// What every browser-phone test sets up around the page: Asterisk's ICE limited to the veth's
// root address (pjlib skips loopback interfaces, and with the last matching rule winning,
// Asterisk would otherwise offer only addresses the namespace cannot reach), a fake microphone
// playing a steady tone (an uncompressed WAV, as Chromium's fake capture wants), and Chromium
// started inside the test's network namespace with the controller's ports forwarded to it.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';

import { launchBrowser, type TestBrowser } from './browser.js';
import { type Lab, until } from './lab.js';
import { type Netns, ROOT_ADDRESS } from './netns.js';
import { scratchDir } from './scratch.js';

/** Asterisk offers ICE candidates on the veth's root address only. */
export async function iceOnVeth(lab: Lab): Promise<void> {
  appendFileSync(
    join(lab.asterisk.hostDir, 'etc/rtp.conf'),
    `icesupport=yes\nice_deny=0.0.0.0/0.0.0.0\nice_deny=::/0\nice_permit=${ROOT_ADDRESS}/255.255.255.255\n`,
  );
  await lab.asterisk.command('module reload res_rtp_asterisk.so');
}

/** A sine at `hz` for `seconds` (long enough to still play when the call comes), 48 kHz WAV. */
export function toneMicrophone(name: string, hz: number, seconds: number, volume = 0.5): string {
  const wav = join(scratchDir(`${name}-mic`), `mic-${hz}.wav`);
  execFileSync('sox', [
    ...['-n', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav],
    ...['synth', String(seconds), 'sine', String(hz), 'vol', String(volume)],
  ]);
  return wav;
}

/** Chromium in the namespace, the microphone `wav`, with `ports` on 127.0.0.1 reaching the host's. */
export async function browserInNetns(netns: Netns, ports: number[], wav: string): Promise<TestBrowser> {
  await netns.forwardLoopback(ports);
  return launchBrowser({ fakeMedia: { audioFile: wav }, executablePath: netns.wrapper('/usr/bin/chromium') });
}

/**
 * Signs in on a page that has nobody signed in yet (as a person would: name, password, 登录)
 * and waits until its phone, `status`, says 电话：已注册; a phone that does not register fails
 * with what the page shows instead.
 */
export async function signInWithPhone(
  page: Page,
  url: string,
  name: string,
  password: string,
  { status = '[data-test=phone-status]', timeoutMs = 15_000 } = {},
): Promise<void> {
  await page.goto(url);
  await page.getByLabel('工号或用户名').fill(name);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  const shown = page.locator(status);
  await until(
    'the page says the phone is registered',
    async () => (await shown.textContent()) === '电话：已注册',
    timeoutMs,
    100,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; the page shows "${await shown.textContent()}"`);
  });
}
