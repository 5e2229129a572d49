// The pages in a real browser (Debian's Chromium through playwright-core) against the real
// controller: a person signs in on /agent, sees a wrong password refused in Chinese, sees
// their name once signed in, signs out back to the form; an agent who opens /supervisor is
// told their role may not. Screenshots go to test-results/ for a person to look at.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { type AcdLab, startAcdLab } from '../helpers/acd-lab.js';
import { ensurePagesBuilt, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';

let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;

t.before(async () => {
  await ensurePagesBuilt();
  acdLab = await startAcdLab('browser', 52, [{ id: 't1', skills: { general: 5 }, scenario: 'none', team: 'a' }]);
  const config = join(acdLab.dir, 'rexian.yaml');
  // Three failures lock out: the test's one wrong password stays well below.
  writeFileSync(
    config,
    'auth:\n  sessions: { idleSeconds: 600, maxSeconds: 3600, lockout: { failures: 3, windowSeconds: 60, lockSeconds: 60 } }\n',
  );
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  const put = await controller.api('PUT', '/api/people/t1', {
    role: 'agent',
    displayName: '王芳',
    password: 'desk-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/t1: ${put.status} ${JSON.stringify(put.body)}`);
  browser = await launchBrowser();
});

t.teardown(async () => {
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function signIn(name: string, password: string): Promise<void> {
  const { page } = browser;
  await page.getByLabel('工号或用户名').fill(name);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录' }).click();
}

t.test(
  "a wrong password is refused in Chinese; the right one shows the person's name; sign-out returns to the form",
  async (t) => {
    const { page } = browser;
    await page.goto(`${controller.url}/agent`);
    await page.getByRole('heading', { name: '登录' }).waitFor();
    t.equal(await page.title(), '坐席工作台 · rexian 12345 热线');
    t.equal(await page.evaluate(() => document.activeElement?.id), 'sign-in-name', 'the name field has the focus');

    await signIn('t1', 'not-my-password');
    const error = page.locator('[data-test=sign-in-error]');
    await error.waitFor();
    t.equal(await error.textContent(), '工号/用户名或密码错误。');
    t.equal(await error.getAttribute('role'), 'alert', 'announced to screen readers');
    await browser.screenshot('sign-in-wrong-password');

    await signIn('t1', 'desk-password-1');
    await page.locator('[data-test=person-name]').waitFor();
    t.equal(await page.locator('[data-test=person-name]').textContent(), '王芳');
    t.equal((await page.locator('[data-test=person-role]').textContent())?.trim(), '坐席');
    t.equal(
      await page.locator('[data-test=agent-state]').textContent(),
      '未签入',
      'the desk shows the agent logged out',
    );
    await page.getByText('实时连接：正常').waitFor({ timeout: 5_000 });
    t.pass('the event stream is live on the session cookie');
    await browser.screenshot('agent-signed-in');

    await page.reload();
    await page.locator('[data-test=person-name]').waitFor();
    t.pass('a reload keeps the session (the cookie)');

    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    t.equal(await page.locator('[data-test=person-name]').count(), 0, 'nobody in the header');
    await page.reload();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    t.pass('signed out for good: a reload shows the form');
    t.same(browser.errors, [], 'no console errors (a CSP violation would show here)');
  },
);

t.test('an agent who opens /supervisor is told their role may not', async (t) => {
  const { page } = browser;
  await page.goto(`${controller.url}/agent/`);
  await signIn('t1', 'desk-password-1');
  await page.locator('[data-test=person-name]').waitFor();
  await page.goto(`${controller.url}/supervisor`);
  const notice = page.locator('[data-test=not-allowed]');
  await notice.waitFor();
  t.match(await notice.textContent(), /无权访问/);
  t.match(await notice.textContent(), /您的角色（坐席）无权使用班长监控大屏。/);
  t.equal(await page.locator('[data-test=page-body]').count(), 0, 'no supervisor page');
  t.equal(await notice.getByRole('link').getAttribute('href'), '/agent/', 'a way to their own page');
  await browser.screenshot('agent-on-supervisor');
});

t.test('the page switches to English and every control is reachable by keyboard', async (t) => {
  const { page } = browser;
  await page.goto(`${controller.url}/agent/`);
  await page.locator('[data-test=person-name]').waitFor();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  t.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  t.equal(await page.locator('[data-test=agent-state]').textContent(), 'Logged out', 'the desk speaks English');
  await page.getByRole('button', { name: 'Sign out' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // From the name field, Tab goes to the password, its show-password eye, then the button.
  const reached: string[] = [];
  await page.locator('#sign-in-name').focus();
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    reached.push(
      await page.evaluate(
        () =>
          document.activeElement?.id ||
          document.activeElement?.textContent?.trim() ||
          document.activeElement?.tagName ||
          '',
      ),
    );
  }
  t.ok(
    reached.includes('sign-in-password') && reached.includes('Sign in'),
    `password and submit reachable by Tab (${reached.join(' → ')})`,
  );
  await page.locator('#sign-in-name').fill('t1');
  await page.locator('#sign-in-password').fill('desk-password-1');
  await page.keyboard.press('Enter');
  await page.locator('[data-test=person-name]').waitFor();
  t.pass('Enter in the form signs in');
  await browser.screenshot('agent-signed-in-en');
  await page.getByRole('button', { name: '中文' }).click(); // leave zh-CN for the next run of this profile
});
