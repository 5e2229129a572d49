// The ops console in a real browser against the real controller and the shipped flows: an ops
// engineer signs in, sees every flow file with its status, opens a flow's picture, simulates
// a call and sees its path marked on the picture; pastes a broken flow into "check before
// saving" and sees its line:col error, clicks it to see the line, and nothing serving changes;
// sees the config status. Screenshots go to test-results/ for a person to look at.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import t from 'tap';

import { repoRoot } from '../../src/asterisk/instance.js';
import type { FlowListView } from '../../src/ivr/flow-api-types.js';
import { ensurePagesBuilt, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type Lab, startLab, until } from '../helpers/lab.js';

let lab: Lab;
let controller: ControllerProcess;
let browser: TestBrowser;
let flowsDir: string;
let queuesFile: string;

t.before(async () => {
  await ensurePagesBuilt();
  flowsDir = mkdtempSync(join(tmpdir(), 'rexian-ops-page-'));
  cpSync(join(repoRoot, 'ivr-flows'), flowsDir, { recursive: true });
  // A queues file of the test's own, so an edit can be refused (see the config status test).
  queuesFile = `${flowsDir}-queues.yaml`;
  cpSync(join(repoRoot, 'sip-config/queues.yaml'), queuesFile);
  lab = await startLab('ops-page', 84, { flowsDir, queuesFile });
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady(30_000);
  const put = await controller.api('PUT', '/api/people/ops1', {
    role: 'ops',
    displayName: '李工',
    password: 'ops-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/ops1: ${put.status} ${JSON.stringify(put.body)}`);
  browser = await launchBrowser();
  const { page } = browser;
  await page.goto(`${controller.url}/ops/`);
  await page.getByLabel('工号或用户名').fill('ops1');
  await page.getByLabel('密码', { exact: true }).fill('ops-password-1');
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('[data-test=person-name]').waitFor();
});

t.teardown(async () => {
  await browser?.close();
  await controller?.kill('SIGKILL');
  await lab?.close();
  rmSync(flowsDir, { recursive: true, force: true });
  rmSync(queuesFile, { force: true });
});

const servingVersions = async (): Promise<Record<string, string | null>> => {
  const res = await controller.api<FlowListView>('GET', '/api/flows');
  return Object.fromEntries(res.body.flows.map((f) => [f.file, f.version]));
};

t.test('the ops page lists every flow file with its status and draws the chosen flow', async (t) => {
  const { page } = browser;
  const list = page.locator('[data-test=flow-list]');
  await list.waitFor();
  const files = await list
    .locator('tbody tr[data-file]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-file')));
  t.same(files, ['legacy-lines.yaml', 'main-12345.yaml', 'outbound-callback.yaml', 'survey.yaml']);
  const main = list.locator('tr[data-file="main-12345.yaml"]');
  t.equal(await main.locator('[data-test=flow-state]').textContent(), '在用');
  t.match(await main.textContent(), /12345/);
  const versions = await servingVersions();
  t.match(await main.textContent(), new RegExp(versions['main-12345.yaml']!), 'the serving version is shown');

  await main.getByRole('button', { name: 'main-12345.yaml' }).click();
  const picture = page.locator('[data-test=flow-picture] svg');
  await picture.waitFor();
  t.equal(await picture.getAttribute('aria-label'), '流程图：main-12345');
  t.ok((await picture.locator('g.node').count()) > 10, 'the nodes are drawn');
  t.equal(await picture.locator('script, a, foreignObject').count(), 0, 'nothing active in the picture');
});

t.test('a simulated call marks its path on the picture', async (t) => {
  const { page } = browser;
  const form = page.locator('[data-test=simulate-form]');
  await form.getByLabel('按键').fill('1');
  await form.getByLabel('来电时间（北京时间）').fill('2026-11-23T10:00');
  await form.getByRole('button', { name: '模拟呼叫' }).click();
  const outcome = page.locator('[data-test=simulation-outcome]');
  await outcome.waitFor();
  t.equal((await outcome.textContent())?.trim(), '结果：进入队列 enterprise');
  const path = await page.locator('[data-test=simulation-path] li').allTextContents();
  t.same(path.slice(-2), ['main-menu', 'enterprise'], 'the path is listed');
  const marked = await page
    .locator('[data-test=flow-picture] g.node.on-path title')
    .evaluateAll((titles) => titles.map((x) => x.textContent));
  t.same(marked.sort(), ['__start', ...new Set(path)].sort(), 'exactly the nodes of the path are marked');
  t.ok(
    (await page.locator('[data-test=flow-picture] g.edge.on-path title').allTextContents()).includes(
      'main-menu->enterprise',
    ),
    'and the edge taken by key 1',
  );
  const stroke = await page
    .locator('[data-test=flow-picture] g.edge.on-path path')
    .first()
    .evaluate((p) => getComputedStyle(p).stroke);
  t.equal(stroke, 'rgb(194, 65, 12)', 'drawn in the path colour');
  await page.locator('[data-test=flow-chosen]').scrollIntoViewIfNeeded();
  await browser.screenshot('ops-flow-simulated');
});

t.test(
  'a broken flow pasted into check shows its line:col error, its line on click, and nothing serving changes',
  async (t) => {
    const { page } = browser;
    const before = await servingVersions();
    const filesBefore = readdirSync(flowsDir).sort();
    await page.getByRole('tab', { name: '发布前检查' }).click();
    const form = page.locator('[data-test=check-form]');
    await form.waitFor();
    const source = readFileSync(join(flowsDir, 'main-12345.yaml'), 'utf8').replace(
      '      "2": talent',
      '      "2": talnet',
    );
    const line = source.split('\n').findIndex((l) => l.includes('talnet')) + 1;
    await form.getByLabel('文件名').fill('main-12345.yaml');
    await form.getByLabel('流程内容（YAML）').fill(source);
    await form.getByRole('button', { name: '检查' }).click();
    const summary = page.locator('[data-test=check-summary]');
    await summary.waitFor();
    t.match(await summary.textContent(), /检查未通过：\d+ 个错误/);
    const where = page.locator('[data-test=issue-where]').first();
    t.match(await where.textContent(), new RegExp(`^main-12345\\.yaml:${line}:\\d+$`), 'the error names file:line:col');
    t.match(await page.locator('[data-test=issue]').first().textContent(), /指向不存在的节点/);
    await page.locator('[data-test=issue] button').first().click();
    const current = page.locator('[data-test=code-view] .line.current');
    t.equal(await current.getAttribute('data-line'), String(line), 'the code view shows the line');
    t.match(await current.textContent(), /talnet/);
    await browser.screenshot('ops-check-broken');

    t.same(await servingVersions(), before, 'the versions serving are unchanged');
    t.same(readdirSync(flowsDir).sort(), filesBefore, 'nothing was written to the flows directory');
    t.notMatch(readFileSync(join(flowsDir, 'main-12345.yaml'), 'utf8'), /talnet/);
  },
);

t.test('a good flow opened from a file into check is simulated and drawn with its path', async (t) => {
  const { page } = browser;
  const form = page.locator('[data-test=check-form]');
  await form.getByLabel('流程内容（YAML）').fill('');
  await page.locator('.check input[type=file]').setInputFiles({
    name: 'main-12345.yaml',
    mimeType: 'text/yaml',
    buffer: readFileSync(join(flowsDir, 'main-12345.yaml')),
  });
  await until('the file is read into the editor', async () =>
    (await form.getByLabel('流程内容（YAML）').inputValue()).includes('id: main-12345'),
  );
  t.equal(await form.getByLabel('文件名').inputValue(), 'main-12345.yaml', "the file's name is taken");
  await form.getByLabel('按键').fill('2');
  await form.getByRole('button', { name: '检查' }).click();
  const summary = page.locator('[data-test=check-summary].ok');
  await summary.waitFor();
  t.match(await summary.textContent(), /检查通过（\d+ 个警告）/);
  t.equal((await page.locator('.check [data-test=simulation-outcome]').textContent())?.trim(), '结果：进入队列 talent');
  t.ok((await page.locator('.check [data-test=flow-picture] g.node.on-path').count()) > 2, 'its path is marked');
});

t.test('an edit saved broken shows in the list as refused, with the last good version serving', async (t) => {
  const { page } = browser;
  await page.getByRole('tab', { name: '流程' }).click();
  const file = join(flowsDir, 'legacy-lines.yaml');
  const good = readFileSync(file, 'utf8');
  const before = (await servingVersions())['legacy-lines.yaml'];
  writeFileSync(file, good.replace('next: which-line', 'next: which-lines'));
  const row = page.locator('tr[data-file="legacy-lines.yaml"]');
  await row.getByText('修改被拒，旧版本在用').waitFor({ timeout: 15_000 });
  t.match(await row.textContent(), new RegExp(before!), 'the last good version is shown serving');
  const where = page
    .locator('tr.issues-row [data-test=issue]', { hasText: '指向不存在的节点' })
    .locator('[data-test=issue-where]');
  const line = good.split('\n').findIndex((l) => l.includes('next: which-line')) + 1;
  t.match(await where.textContent(), new RegExp(`^legacy-lines\\.yaml:${line}:\\d+$`));
  const issues = page.locator('tr.issues-row [data-test=issue]');
  t.equal(await issues.count(), 5, 'the first five issues fit the screen');
  await page.locator('[data-test=issues-more]').click();
  t.ok((await issues.count()) > 5, 'the rest on demand');
  await page.locator('[data-test=issues-more]').click();
  await browser.screenshot('ops-flow-refused');
  writeFileSync(file, good);
  await row.getByText('在用', { exact: true }).waitFor({ timeout: 15_000 });
});

t.test('the config status shows what is loaded', async (t) => {
  const { page } = browser;
  await page.getByRole('tab', { name: '队列与坐席配置' }).click();
  const status = page.locator('[data-test=config-status] table');
  await status.waitFor();
  t.match(await status.locator('tr[data-kind=queues]').textContent(), /general/);
  t.equal((await page.locator('[data-test=config-reload]').textContent())?.trim(), '启动以来没有重新加载过。');
  await page.waitForTimeout(400); // the tabs' underline slides over
  await browser.screenshot('ops-config');
  t.same(browser.errors, [], 'no console errors (a CSP violation would show here)');
});

t.test(
  'a queues edit saved broken: the page shows the refusal with file:line:col, the last good serving',
  async (t) => {
    const { page } = browser;
    const good = readFileSync(queuesFile, 'utf8');
    const reload = (): boolean => (controller as unknown as { child: ChildProcess }).child.kill('SIGHUP');
    writeFileSync(queuesFile, `${good}\nnotAKey: 1\n`);
    reload();
    const refused = page.locator('[data-test=config-reload].refused');
    await page.locator('[data-test=config-status]').getByRole('button', { name: '刷新' }).click();
    await refused.waitFor({ timeout: 10_000 });
    const line = good.split('\n').length + 1;
    t.match(await refused.textContent(), /REXIAN_QUEUES_INVALID/, 'the refusal names its code');
    t.match(await refused.textContent(), new RegExp(`${queuesFile}:${line}:1`), 'and the problem its file:line:col');
    t.match(await refused.textContent(), /notAKey/, 'and what is wrong');
    t.match(
      await page.locator('[data-test=config-status] table tr[data-kind=queues]').textContent(),
      /general/,
      'the queues loaded at start still serve',
    );
    await browser.screenshot('ops-config-refused');
    writeFileSync(queuesFile, good);
    reload();
    await page.locator('[data-test=config-status]').getByRole('button', { name: '刷新' }).click();
    await page.locator('[data-test=config-reload].ok').waitFor({ timeout: 10_000 });
    t.pass('the fixed file reloads');
  },
);

t.test('the page reads in English too', async (t) => {
  const { page } = browser;
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('tab', { name: 'Flows' }).click();
  await page.getByRole('heading', { name: 'Flow files' }).waitFor();
  t.equal(await page.locator('tr[data-file="main-12345.yaml"] [data-test=flow-state]').textContent(), 'Serving');
  t.equal(await page.getByRole('tab', { name: 'Check before saving' }).count(), 1);
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('heading', { name: '流程文件' }).waitFor();
});
