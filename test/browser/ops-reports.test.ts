// The ops console's reports and recordings in a real browser against the real controller, with
// SIPp citizens and agents on a real Asterisk, every call recorded: the reports table shows
// the API's figures to the call (by queue, by agent, hour by hour), its chart is drawn, and
// the CSV the page downloads has the table's rows; the recordings search by agent and date
// finds the calls, Play makes the <audio> element play, and the audit stream holds the listen
// (and the download) with the signed-in person; a supervisor finds only their team's
// recordings and is refused another team's; an agent's session is refused both. In English
// the page reads in English and its controls are reached by Tab. Screenshots:
// test-results/ops-reports.png, ops-recordings.png (1366×768).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import type { Report, ReportRow } from '../../src/reports/report.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { ensurePagesBuilt, launchBrowser, signInAs, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep, streamEntries, until } from '../helpers/lab.js';

let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
/** The day of the calls (Beijing), as the page defaults to it. */
const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
/** The calls made, by agent: their recordings are `<callId>-talk`. */
const callsOf: Record<string, string[]> = { r1: [], r2: [] };

const REPORT_COLUMNS: Array<keyof ReportRow> = [
  'offered',
  'answered',
  'answerRate',
  'serviceLevel10s',
  'serviceLevel15s',
  'averageWaitSeconds',
  'averageTalkSeconds',
  'abandoned',
  'shortAbandons',
  'outbound',
  'satisfactionRate',
  'averageHandleTimeSeconds',
];

t.before(async () => {
  await ensurePagesBuilt();
  acdLab = await startAcdLab('ops-reports', 29, [
    { id: 'r1', skills: { general: 5 }, scenario: 'agent-answers.xml', team: 'a' },
    { id: 'r2', skills: { special: 5 }, scenario: 'agent-answers.xml', team: 'b' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(config, 'auth:\n  sessions: { idleSeconds: 600, maxSeconds: 3600 }\n');
  controller = new ControllerProcess({ ...acdLab.lab.env, REXIAN_CONFIG: config }, acdLab.lab.ports.controller).start();
  await controller.waitReady();
  for (const [name, body] of [
    ['ops1', { role: 'ops', displayName: '李工', password: 'ops-password-1' }],
    ['banzhang', { role: 'supervisor', teams: ['a'], displayName: '张班长', password: 'lead-password-1' }],
    ['r1', { role: 'agent', displayName: '王芳', password: 'desk-password-1' }],
  ] as const) {
    const put = await controller.api('PUT', `/api/people/${name}`, body);
    if (put.status !== 201) throw new Error(`PUT /api/people/${name}: ${put.status} ${JSON.stringify(put.body)}`);
  }
  for (const id of ['r1', 'r2'])
    if ((await controller.api('POST', `/api/agents/${id}/login`, { ready: true })).status !== 200)
      throw new Error(`agent ${id} could not log in`);
  // Two calls for r1 (queue general, team a), one for r2 (queue special, team b), one after
  // another; each talks 3 s and is recorded from the answer.
  let n = 0;
  for (const [did, agent] of [
    ['7001', 'r1'],
    ['7003', 'r2'],
    ['7001', 'r1'],
  ] as const) {
    const c = citizen(acdLab.lab, controller, { did, caller: `1380000029${n++}`, hangUpAfterMs: 3000 });
    const { callId } = (await c.log(LogEvent.callConnectedToAgent, 20_000)) as { callId: string };
    await c.log(LogEvent.recordingStarted, 10_000);
    await c.sipp.done;
    callsOf[agent]!.push(callId);
    await until(
      `${agent} ready again`,
      async () =>
        (await controller.api<{ state: string }>('GET', `/api/agents/${agent}`)).body.state === 'ready' || undefined,
      15_000,
    );
  }
  // The records reach PostgreSQL through the outbox; the files are Asterisk's once stored.
  await until(
    'the three calls in the daily report',
    async () =>
      (await controller.api<Report>('GET', `/api/reports/daily?date=${today}`)).body.total?.offered === 3 || undefined,
    30_000,
  );
  for (const callId of [...callsOf.r1!, ...callsOf.r2!])
    await until(
      `recording ${callId}-talk stored`,
      async () => (await acdLab.lab.ari('GET', `/recordings/stored/${callId}-talk`)).status === 200 || undefined,
      10_000,
    );
  browser = await launchBrowser();
});

t.teardown(async () => {
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function signIn(name: string, password: string): Promise<void> {
  await signInAs(browser.page, `${controller.url}/ops/`, name, password);
}

/** What the report table shows: each row's key and its cells' data-value (the API's figures). */
async function tableFigures(): Promise<Array<Record<string, string>>> {
  return browser.page.locator('[data-test=report-table] tr[data-key]').evaluateAll((rows) =>
    rows.map((r) => {
      const out: Record<string, string> = { key: r.getAttribute('data-key')! };
      for (const td of r.querySelectorAll<HTMLElement>('td[data-col]')) out[td.dataset.col!] = td.dataset.value!;
      return out;
    }),
  );
}

/** The same, from the API's JSON: nulls are empty, as the CSV has them. */
function apiFigures(report: Report): Array<Record<string, string>> {
  return [...report.rows, report.total].map((r) => ({
    key: r.key,
    ...Object.fromEntries(REPORT_COLUMNS.map((c) => [c, r[c] === null ? '' : String(r[c])])),
  }));
}

async function showReport(kind: string, by?: string): Promise<void> {
  const { page } = browser;
  const before = await page.locator('[data-test=report-table] caption').textContent();
  await page.getByLabel('报表类型').selectOption(kind);
  if (by) await page.getByLabel('分组方式').selectOption(by);
  await page.locator('[data-test=report-run]').click();
  // Each report asked for here differs from the one before: its caption changes when it is shown.
  await until(
    `the ${kind} report by ${by ?? 'hour'} shown`,
    async () => (await page.locator('[data-test=report-table] caption').textContent()) !== before || undefined,
    10_000,
  );
}

t.test(
  "the reports table equals the API's figures to the call, its chart is drawn, the CSV has the same rows",
  async (t) => {
    await signIn('ops1', 'ops-password-1');
    const { page } = browser;
    await page.getByRole('tab', { name: '报表' }).click();
    const table = page.locator('[data-test=report-table]');
    await table.locator('tr[data-key=general]').waitFor({ timeout: 10_000 });
    const daily = (await controller.api<Report>('GET', `/api/reports/daily?date=${today}&by=queue`)).body;
    t.match(
      daily.rows.map((r) => [r.key, r.offered, r.answered]),
      [
        ['general', 2, 2],
        ['special', 1, 1],
      ],
      'the traffic as made',
    );
    t.same(await tableFigures(), apiFigures(daily), 'the daily table by queue shows the API figures');
    t.match(await table.locator('tr[data-key=general] td[data-col=answerRate]').textContent(), /100\.0%/);

    // The chart: ECharts drew its bars on the canvas (pixels of the answered bars' green).
    const drawn = await page.locator('[data-test=report-chart] canvas').evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let green = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 30 && data[i + 1] === 107 && data[i + 2] === 58) green++;
      return { green, width: c.width };
    });
    t.ok(drawn.width > 200 && drawn.green > 2000, `the answered bars are drawn (${drawn.green} green pixels)`);
    t.match(
      await page.locator('[data-test=report-chart]').getAttribute('aria-label'),
      /呼入 3，接通 3，接通率 100\.0%/,
      'and says its figures in words',
    );

    // The CSV download: the API's own file, the table's rows.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-test=report-csv]').click(),
    ]);
    t.equal(download.suggestedFilename(), `rexian-queue-${today}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const lines = csv
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    const header = lines[0]!.split(',');
    t.equal(header[0], 'queue', 'the CSV is grouped by queue');
    const csvRows = lines.slice(1).map((l) => {
      const cells = l.split(',');
      return {
        key: cells[0]!,
        ...Object.fromEntries(REPORT_COLUMNS.map((c) => [c, cells[header.indexOf(c)] ?? 'missing'])),
      };
    });
    t.same(csvRows, await tableFigures(), 'the CSV has the rows of the table');

    await showReport('range', 'agent');
    const range = (await controller.api<Report>('GET', `/api/reports/range?from=${today}&to=${today}&by=agent`)).body;
    t.same(
      range.rows.map((r) => [r.key, r.answered]),
      [
        ['r1', 2],
        ['r2', 1],
      ],
    );
    t.same(await tableFigures(), apiFigures(range), 'the range by agent shows the API figures');

    await showReport('hourly');
    await until(
      'the hourly table',
      async () =>
        (await tableFigures()).every((r) => r.key === 'total' || /^\d+$/.test(r.key ?? '')) ? true : undefined,
      10_000,
    );
    const hourly = (await controller.api<Report>('GET', `/api/reports/hourly?date=${today}`)).body;
    t.same(await tableFigures(), apiFigures(hourly), 'hour by hour as the API has it');
    t.equal(await page.getByLabel('分组方式').count(), 0, 'an hourly report has no grouping to choose');

    await showReport('daily', 'queue');
    await table.locator('tr[data-key=general]').waitFor();
    await sleep(300); // the chart's first frame
    await browser.screenshot('ops-reports');
    t.same(browser.errors, [], 'no console errors');
  },
);

t.test(
  'the recordings search by agent and date finds the calls; Play plays it in <audio>, audited with who',
  async (t) => {
    const { page } = browser;
    await page.getByRole('tab', { name: '录音' }).click();
    const form = page.locator('[data-test=recording-search]');
    await form.waitFor();
    await form.getByLabel('坐席工号').fill('r1');
    await form.getByLabel('开始日期').fill(today);
    await form.getByLabel('结束日期').fill(today);
    await form.getByRole('button', { name: '查找' }).click();
    const rows = page.locator('[data-test=rec-table] tbody tr');
    await rows.first().waitFor({ timeout: 10_000 });
    t.same(
      (await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-call')))).sort(),
      [...callsOf.r1!].sort(),
      "the search by agent and date finds r1's two calls, and only those",
    );
    const callId = callsOf.r1![0]!;
    const name = `${callId}-talk`;
    const row = page.locator(`[data-test=rec-table] tr[data-name="${name}"]`);
    t.match(await row.textContent(), /general.*7001.*坐席通话/s, 'with its queue, line and kind');

    const before = (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).length;
    await row.getByRole('button', { name: `播放录音 ${name}` }).click();
    const audio = page.locator('[data-test=recording-audio]');
    const playing = await until(
      'the <audio> element playing',
      async () => {
        const s = await audio.evaluate((a: HTMLAudioElement) => ({
          currentTime: a.currentTime,
          duration: a.duration,
          paused: a.paused,
          src: a.src,
        }));
        return s.currentTime > 0.3 ? s : undefined;
      },
      10_000,
    );
    t.ok(playing.duration > 1.5, `the recording has its length (${playing.duration.toFixed(1)} s)`);
    t.match(playing.src, /^blob:/, 'from the file fetched with the session');
    t.match(await page.locator('[data-test=player-status]').textContent(), new RegExp(`正在播放 ${name}`));
    const listens = (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).slice(before);
    t.match(
      listens,
      [{ who: 'ops1', role: 'ops', action: 'recording-listen', recording: name, callId, agentId: 'r1' }],
      'the listen is audited with the signed-in person',
    );
    await page.locator('[data-test=recordings]').scrollIntoViewIfNeeded();
    await browser.screenshot('ops-recordings');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: `下载录音 ${name}` }).click(),
    ]);
    t.equal(download.suggestedFilename(), `${name}.wav`);
    const wav = readFileSync((await download.path())!);
    t.equal(wav.subarray(0, 4).toString('latin1'), 'RIFF', 'a WAV file');
    const uses = (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).slice(before);
    t.match(
      uses.map((a) => [a.who, a.action, a.recording]),
      [
        ['ops1', 'recording-listen', name],
        ['ops1', 'recording-download', name],
      ],
      'and the download too',
    );

    // By call id alone: that call's recording.
    await form.getByLabel('坐席工号').fill('');
    await form.getByLabel('开始日期').fill('');
    await form.getByLabel('通话编号').fill(callsOf.r2![0]!);
    await form.getByRole('button', { name: '查找' }).click();
    await page.locator(`[data-test=rec-table] tr[data-call="${callsOf.r2![0]}"]`).waitFor({ timeout: 5_000 });
    t.equal(await rows.count(), 1, 'the search by call finds its one recording');
    // Nothing to search by: the page says what is missing, in its language.
    await form.getByLabel('通话编号').fill('');
    await form.getByRole('button', { name: '查找' }).click();
    t.match(
      await page.locator('[data-test=rec-problem]').textContent(),
      /请填写通话编号，或要查找的日期/,
      'a search with nothing to search by is refused in words',
    );
    t.same(browser.errors, [], 'no console errors');
  },
);

t.test('the search API: a date range, an agent, a call, and bad input', async (t) => {
  const all = await controller.api<{ recordings: Array<{ callId: string; agentId: string }>; truncated: boolean }>(
    'GET',
    `/api/recordings?from=${today}`,
  );
  t.equal(all.status, 200);
  t.same(
    all.body.recordings.map((r) => r.callId),
    [callsOf.r1![1], callsOf.r2![0], callsOf.r1![0]],
    'every recording of the day, newest first',
  );
  const limited = await controller.api<{ recordings: unknown[]; truncated: boolean }>(
    'GET',
    `/api/recordings?from=${today}&limit=2`,
  );
  t.match(limited.body, { truncated: true }, 'a limit says more matched');
  t.equal(limited.body.recordings.length, 2);
  const yesterday = new Date(Date.parse(`${today}T00:00:00+08:00`) - 86_400_000 + 8 * 3600_000)
    .toISOString()
    .slice(0, 10);
  t.same(
    (await controller.api<{ recordings: unknown[] }>('GET', `/api/recordings?from=${yesterday}&to=${yesterday}`)).body
      .recordings,
    [],
    'another day has none',
  );
  const both = await controller.api<{ recordings: unknown[] }>(
    'GET',
    `/api/recordings?from=${today}&agentId=r2&callId=${callsOf.r1![0]}`,
  );
  t.same(both.body.recordings, [], 'agent and call must both match');
  const bad = await controller.api('GET', `/api/recordings?from=${today}&to=2020-01-01`);
  t.equal(bad.status, 400);
  t.match(bad.body, { error: { code: 'REXIAN_BAD_REQUEST', details: { field: 'to' } } });
  const nothing = await controller.api('GET', '/api/recordings');
  t.match(nothing, { status: 400, body: { error: { code: 'REXIAN_BAD_REQUEST', details: { field: 'from' } } } });
  const notADay = await controller.api('GET', '/api/recordings?from=2026-02-30');
  t.match(notADay, { status: 400, body: { error: { details: { field: 'from' } } } });
});

t.test("a supervisor finds only their team's recordings and is refused another team's", async (t) => {
  await signIn('banzhang', 'lead-password-1');
  const { page } = browser;
  t.same(
    await page.getByRole('tab').allTextContents(),
    ['报表', '录音'],
    'a supervisor gets the reports and recordings only',
  );
  t.equal(
    await page.locator('[data-test=page-link-supervisor]').getAttribute('href'),
    '/supervisor/',
    'the header links back to their wallboard',
  );
  await page.getByRole('tab', { name: '录音' }).click();
  const form = page.locator('[data-test=recording-search]');
  await form.getByRole('button', { name: '查找' }).click();
  const rows = page.locator('[data-test=rec-table] tbody tr');
  await rows.first().waitFor({ timeout: 10_000 });
  t.same(
    (await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-agent')))).sort(),
    ['r1', 'r1'],
    "today's recordings of team a's agent only",
  );
  await form.getByLabel('坐席工号').fill('r2');
  await form.getByRole('button', { name: '查找' }).click();
  await page.locator('[data-test=rec-count]', { hasText: '没有您可以收听的匹配录音' }).waitFor({ timeout: 5_000 });
  t.pass('a search for another team’s agent finds nothing');

  const other = `${callsOf.r2![0]}-talk`;
  const refused = await page.evaluate(async (path) => {
    const res = await fetch(path);
    return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
  }, `/api/recordings/${other}?use=listen`);
  t.same(refused, { status: 403, code: 'REXIAN_FORBIDDEN' }, "another team's recording is refused");

  await form.getByLabel('坐席工号').fill('r1');
  await form.getByRole('button', { name: '查找' }).click();
  const mine = `${callsOf.r1![1]}-talk`;
  const before = (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).length;
  await page.locator(`[data-test=rec-table] tr[data-name="${mine}"] [data-test=rec-play]`).click();
  await until(
    'the supervisor hears it',
    async () =>
      (await page.locator('[data-test=recording-audio]').evaluate((a: HTMLAudioElement) => a.currentTime)) > 0.3 ||
      undefined,
    10_000,
  );
  t.match(
    (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).slice(before),
    [{ who: 'banzhang', role: 'supervisor', action: 'recording-listen', recording: mine }],
    "the supervisor's listen is audited with their name",
  );
  t.equal(
    (await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`)).filter((a) => a.recording === other).length,
    0,
    'the refused one was never served, so never audited',
  );
});

t.test("in English the page reads in English; the reports' controls are reachable by keyboard", async (t) => {
  const { page } = browser;
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('tab', { name: 'Reports' }).click();
  await page.getByRole('heading', { name: 'Reports', exact: true }).waitFor();
  await page.locator('[data-test=report-table] tr[data-key=general]').waitFor({ timeout: 10_000 });
  t.match(await page.locator('[data-test=report-table] thead').textContent(), /Offered.*Answered.*Answer rate/s);
  await page.getByLabel('Report', { exact: true }).focus();
  const reached: string[] = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    reached.push(
      await page.evaluate(
        () =>
          document.activeElement?.closest('[data-test]')?.getAttribute('data-test') ?? document.activeElement?.id ?? '',
      ),
    );
  }
  for (const control of ['report-from', 'report-by', 'report-run', 'report-csv'])
    t.ok(reached.includes(control), `${control} reachable by Tab (${reached.filter(Boolean).join(' → ')})`);
  // By keyboard alone: choose "by agent" and show it.
  await page.getByLabel('Grouped by').focus();
  await page.keyboard.press('ArrowDown'); // queue → agent
  await page.locator('[data-test=report-run]').focus();
  await page.keyboard.press('Enter');
  await page.locator('[data-test=report-table] tr[data-key=r1]').waitFor({ timeout: 10_000 });
  t.pass('a report chosen and shown by keyboard');
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('tab', { name: '报表' }).waitFor();
});

t.test("an agent's session is refused the reports and the recordings", async (t) => {
  await signIn('r1', 'desk-password-1');
  const { page } = browser;
  await page.locator('[data-test=not-allowed]').waitFor();
  t.equal(await page.locator('[data-test=page-links]').count(), 0, 'an agent is offered no other page');
  const name = `${callsOf.r1![0]}-talk`;
  const statuses = await page.evaluate(
    async ({ day, recording }) => {
      const get = async (path: string): Promise<number> => (await fetch(path)).status;
      return {
        daily: await get(`/api/reports/daily?date=${day}`),
        csv: await get(`/api/reports/range?from=${day}&to=${day}&format=csv`),
        search: await get(`/api/recordings?from=${day}&agentId=r1`),
        listen: await get(`/api/recordings/${recording}?use=listen`),
        byCall: await get(`/api/calls/${recording.replace(/-talk$/, '')}/recordings`),
      };
    },
    { day: today, recording: name },
  );
  t.same(statuses, { daily: 403, csv: 403, search: 403, listen: 403, byCall: 403 }, 'every read refused');
});

t.test('a recording removed at the end of its retention period is no longer found', async (t) => {
  await controller.kill('SIGKILL');
  controller = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_CONFIG: join(acdLab.dir, 'rexian.yaml') },
    acdLab.lab.ports.controller,
  ).start({ REXIAN_RECORDING_RETENTION_DAYS: '0.00001', REXIAN_RECORDING_SWEEP_SECONDS: '1' });
  await controller.waitReady();
  await until(
    'the three recordings swept',
    async () => controller.logs.filter((l) => l.event === LogEvent.recordingRemoved).length >= 3 || undefined,
    20_000,
  );
  const found = await controller.api<{ recordings: unknown[] }>('GET', `/api/recordings?from=${today}`);
  t.same(found.body.recordings, [], 'the search by date finds none');
  const { redis, prefix } = acdLab.lab;
  t.same(
    [
      await redis.zcard(`${prefix}:recordings:by-time`),
      await redis.zcard(`${prefix}:agent-recordings:r1`),
      await redis.zcard(`${prefix}:agent-recordings:r2`),
    ],
    [0, 0, 0],
    'and the indexes by time and by agent are empty',
  );
});
