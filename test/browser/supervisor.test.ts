// The supervisor's page (/supervisor) in a real browser against the real controller, with SIPp
// citizens and agents on a real Asterisk: after a few answered calls, one abandoned and one
// caller still waiting, the wallboard's figures equal GET /api/queues's to the call; a
// supervisor clicks whisper on a live call and the agent hears the supervisor's tone while
// the citizen does not, switches to monitor without hanging up (the agent no longer hears
// them), and stops; forces an agent not ready with a reason and signs them out from the
// agents table; sees only their team's agents; an agent's session is refused the
// supervisor's data. The supervisor's phone is a SIPp peer (roster id "boss") whose number
// the page is given: the browser phone is an agent's only (GET /api/session/phone).
// Screenshots: test-results/supervisor-*.png (1366×768, and the big screen at 1920×1080).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, citizen, startAcdLab } from '../helpers/acd-lab.js';
import {
  agentListeningScenario,
  agentSpeakingScenario,
  listen,
  type ProbeApp,
  rtpEar,
  testApp,
  tonePcap,
} from '../helpers/audio.js';
import { ensurePagesBuilt, launchBrowser, signInAs, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep, streamEntries, until } from '../helpers/lab.js';

const CITIZEN_HZ = 440;
const SUPERVISOR_HZ = 697;
const EAR_PORT = 51_560;

let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
let probe: ProbeApp;
let agentEar: Awaited<ReturnType<typeof rtpEar>>;

t.before(async () => {
  await ensurePagesBuilt();
  acdLab = await startAcdLab('wallboard', 56, [
    { id: 'g1', skills: { general: 5 }, scenario: agentListeningScenario(EAR_PORT), team: 'a' },
    { id: 'g2', skills: { general: 5 }, scenario: 'none', team: 'b' },
    { id: 'boss', skills: { supervise: 1 }, scenario: agentSpeakingScenario(SUPERVISOR_HZ), team: 'lead' },
  ]);
  const config = join(acdLab.dir, 'rexian.yaml');
  writeFileSync(config, 'auth:\n  sessions: { idleSeconds: 600, maxSeconds: 3600 }\n');
  // One alert rule, quick to fire: callers waiting while no agent is ready, for 2 s.
  const rules = join(acdLab.dir, 'alerts.yaml');
  writeFileSync(rules, 'rules:\n  no-agent-ready: { kind: waiting-no-agent-ready, severity: critical, for: 2 }\n');
  controller = new ControllerProcess(
    { ...acdLab.lab.env, REXIAN_CONFIG: config, REXIAN_ALERTS: rules },
    acdLab.lab.ports.controller,
  ).start();
  await controller.waitReady();
  for (const [name, body] of [
    ['banzhang', { role: 'supervisor', teams: ['a'], displayName: '张班长', password: 'lead-password-1' }],
    ['g1', { role: 'agent', displayName: '王芳', password: 'desk-password-1' }],
  ] as const) {
    const put = await controller.api('PUT', `/api/people/${name}`, body);
    if (put.status !== 201) throw new Error(`PUT /api/people/${name}: ${put.status} ${JSON.stringify(put.body)}`);
  }
  probe = await testApp(acdLab.lab);
  agentEar = await rtpEar(EAR_PORT);
  browser = await launchBrowser();
});

t.teardown(async () => {
  agentEar?.close();
  probe?.close();
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
});

async function signIn(name: string, password: string): Promise<void> {
  await signInAs(browser.page, `${controller.url}/supervisor/`, name, password);
}

interface Figures {
  queue: string;
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  waitingNow: number;
  longestWaitNowSeconds: number;
  serviceLevel: Array<{ seconds: number; percent: number | null }>;
  erlangC: { agentsNeeded: number; loggedIn: number };
}

/** What a tile shows, from its data-value attributes. */
async function tileFigures(queue: string): Promise<Record<string, string>> {
  return browser.page.locator(`[data-test=queue-tile][data-queue="${queue}"]`).evaluate((tile) => {
    const out: Record<string, string> = {};
    for (const el of tile.querySelectorAll<HTMLElement>('[data-test][data-value]'))
      out[el.dataset.test!] = el.dataset.value!;
    const erlang = tile.querySelector<HTMLElement>('[data-test=erlang]')!;
    out.needed = erlang.dataset.needed!;
    out.loggedIn = erlang.dataset.loggedIn!;
    return out;
  });
}

t.test(
  "after SIPp traffic the wallboard's figures equal GET /api/queues's to the call; a screenshot at 1366×768",
  async (t) => {
    t.equal((await controller.api('POST', '/api/agents/g1/login', { ready: true })).status, 200);
    // Three answered calls, one after another (the agent's phone answers, the citizen hangs up).
    for (let i = 0; i < 3; i++) {
      const c = citizen(acdLab.lab, controller, { did: '7001', caller: `1380000056${i}`, hangUpAfterMs: 2500 });
      await c.log(LogEvent.callConnectedToAgent, 20_000);
      await c.sipp.done;
      await until(
        'agent ready again',
        async () =>
          (await controller.api<{ state: string }>('GET', '/api/agents/g1')).body.state === 'ready' || undefined,
        15_000,
      );
    }
    // Then the agent is not ready: one caller gives up after 4.5 s (an abandon, over the 3 s
    // short-abandon threshold) and another is still waiting while the figures are compared.
    t.equal((await controller.api('POST', '/api/agents/g1/not-ready', { reason: 'break' })).status, 200);
    const patient = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000565', hangUpAfterMs: 4500 });
    await patient.log(LogEvent.callAbandoned, 20_000, (l) => l.short === false);
    const waiting = citizen(acdLab.lab, controller, { did: '7001', caller: '13800000566', hangUpAfterMs: 20_000 });
    await waiting.log(LogEvent.callQueued, 20_000);

    await signIn('banzhang', 'lead-password-1');
    const { page } = browser;
    await page.locator('[data-test=queue-tile][data-queue=general]').waitFor();
    await until(
      'the waiting caller on the wallboard',
      async () => ((await tileFigures('general'))['waiting-now'] === '1' ? true : undefined),
      10_000,
    );
    const shown = await tileFigures('general');
    const api = (await controller.api<{ queues: Figures[] }>('GET', '/api/queues')).body.queues;
    const general = api.find((q) => q.queue === 'general')!;
    t.match(
      general,
      { offered: 5, answered: 3, abandoned: 1, shortAbandoned: 0, waitingNow: 1 },
      'the traffic as made',
    );
    t.same(
      {
        offered: shown.offered,
        answered: shown.answered,
        abandoned: shown.abandoned,
        shortAbandoned: shown['short-abandoned'],
        waitingNow: shown['waiting-now'],
        sl10: shown['sl-10'],
        sl15: shown['sl-15'],
        needed: shown.needed,
        loggedIn: shown.loggedIn,
      },
      {
        offered: String(general.offered),
        answered: String(general.answered),
        abandoned: String(general.abandoned),
        shortAbandoned: String(general.shortAbandoned),
        waitingNow: String(general.waitingNow),
        sl10: String(general.serviceLevel.find((s) => s.seconds === 10)!.percent),
        sl15: String(general.serviceLevel.find((s) => s.seconds === 15)!.percent),
        needed: String(general.erlangC.agentsNeeded),
        loggedIn: String(general.erlangC.loggedIn),
      },
      'the tile shows the API figures',
    );
    t.equal(shown['answer-rate'], String(Math.round((1000 * general.answered) / general.offered) / 10), 'answer rate');
    t.ok(
      Math.abs(Number(shown['longest-wait']) - general.longestWaitNowSeconds) <= 2,
      `longest wait now within the second (${shown['longest-wait']} vs ${general.longestWaitNowSeconds})`,
    );
    const overall = await tileFigures('overall');
    const sum = (f: (q: Figures) => number): string => String(api.reduce((n, q) => n + f(q), 0));
    t.same(
      [overall.offered, overall.answered, overall.abandoned, overall['waiting-now']],
      [sum((q) => q.offered), sum((q) => q.answered), sum((q) => q.abandoned), sum((q) => q.waitingNow)],
      'the whole hotline adds up the queues',
    );
    // 3 answered within 10 s of 4 that count (1 abandon over the threshold): 75 %, below 90 %.
    t.equal(shown['sl-10'], '75');
    const level = page.locator('[data-test=queue-tile][data-queue=general] [data-test=sl-10]');
    t.equal(await level.getAttribute('data-risk'), 'below', 'the 10 s level is below target');
    t.match(await level.textContent(), /低于目标/, 'and says so in words, not by colour alone');

    const rows = page.locator('[data-test=agents-table] tbody tr');
    await rows.first().waitFor();
    t.same(
      await page.locator('[data-test=agents-table] [data-test=agent-name]').allTextContents(),
      ['测试g1'],
      "the supervisor sees only their team's agents",
    );
    // Callers wait and no agent is ready: the alert is on the wallboard, it sounded, and is acknowledged.
    const alert = page.locator('[data-test=alert][data-rule=no-agent-ready]');
    await alert.waitFor({ timeout: 10_000 });
    t.match(await alert.textContent(), /严重/, 'its severity in words');
    t.ok((await page.evaluate(() => (window as { rexianAlertTones?: number }).rexianAlertTones ?? 0)) >= 1, 'a tone');
    await page.locator('[data-test=sl-chart]').waitFor();
    await sleep(500); // the chart's first frame
    await browser.screenshot('supervisor-wallboard');
    await alert.locator('[data-test=alert-ack]').click();
    await alert.locator('[data-test=alert-acked]').waitFor();
    t.match(await alert.locator('[data-test=alert-acked]').textContent(), /banzhang 已确认/, 'acknowledged, by whom');
    const acks = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit:alerts`);
    t.match(acks.at(-1), { by: 'banzhang' }, 'and audited');
    t.same(browser.errors, [], 'no console errors');
    await waiting.sipp.done; // gives up too: nobody is left waiting for the next test
    await alert.waitFor({ state: 'detached', timeout: 10_000 });
    t.pass('the alert clears from the wallboard when nobody waits');
  },
);

t.test(
  "whisper from the page: the agent hears the supervisor's tone, the citizen does not; monitor without hanging up",
  async (t) => {
    const { page } = browser;
    t.equal((await controller.api('POST', '/api/agents/g1/ready')).status, 200);
    const c = citizen(acdLab.lab, controller, {
      did: '7001',
      caller: '13800000567',
      steps: [{ pcap: tonePcap(CITIZEN_HZ, 60) }],
    });
    const { callId } = (await c.log(LogEvent.callConnectedToAgent)) as { callId: string };
    const supervisorLeg = `${callId}-s1`;
    const row = page.locator('tr', { has: page.locator(`[data-call="${callId}"]`) });
    await row.waitFor({ timeout: 10_000 });
    t.match(await row.locator('[data-test=call-agent]').textContent(), /测试g1/);

    // A person's session has no phone of its own: without one the page says what is missing.
    await row.locator('[data-test=start-whisper]').click();
    await page.getByText('请先填写您的话机工号。').waitFor();
    t.pass('no phone given: the page says so');
    await page.getByLabel('我的话机（工号）').fill('boss');
    await row.locator('[data-test=start-whisper]').click();
    // The notice of the first click is still shown until the second click's answer replaces it.
    await page.locator('[data-test=calls-notice]', { hasText: '正在呼叫您的话机 boss' }).waitFor({ timeout: 10_000 });
    t.pass("the page says it is calling the supervisor's phone");
    await c.log(LogEvent.supervisorJoined, 15_000);
    await row.locator('[data-test=supervising][data-mode=whisper]').waitFor();
    await page.locator('[data-test=live-calls]').scrollIntoViewIfNeeded();
    await browser.screenshot('supervisor-live-calls');
    let n = 0;
    const hears = async (channel: string, hz: number): Promise<number> =>
      (await listen(acdLab.lab, probe, channel, `ear-${n++}`, 1500, hz)).toneWindows;
    const agentHears = async (hz: number): Promise<number> => (await agentEar.hear(1500, hz)).toneWindows;
    const whisper = {
      agentHearsSupervisor: await agentHears(SUPERVISOR_HZ),
      agentHearsCitizen: await agentHears(CITIZEN_HZ),
      citizenHearsSupervisor: await hears(callId, SUPERVISOR_HZ),
    };
    t.ok(whisper.agentHearsSupervisor > 0.7, `the agent hears the supervisor (${whisper.agentHearsSupervisor})`);
    t.ok(whisper.agentHearsCitizen > 0.7, `and still the citizen (${whisper.agentHearsCitizen})`);
    t.ok(whisper.citizenHearsSupervisor < 0.1, `the citizen does not (${whisper.citizenHearsSupervisor})`);

    await row.locator('[data-test=switch-monitor]').click();
    await row.locator('[data-test=supervising][data-mode=monitor]').waitFor();
    await page.locator('[data-test=calls-notice]', { hasText: '已切换为监听，通话未中断' }).waitFor({ timeout: 5_000 });
    t.pass('the page says the mode switched without hanging up');
    await sleep(500);
    const monitor = {
      agentHearsSupervisor: await agentHears(SUPERVISOR_HZ),
      supervisorHearsCitizen: await hears(supervisorLeg, CITIZEN_HZ),
    };
    t.ok(
      monitor.agentHearsSupervisor < 0.1,
      `monitor: the agent no longer hears them (${monitor.agentHearsSupervisor})`,
    );
    t.ok(
      monitor.supervisorHearsCitizen > 0.7,
      `monitor: the supervisor hears the call (${monitor.supervisorHearsCitizen})`,
    );
    t.equal((await acdLab.lab.ari('GET', `/channels/${supervisorLeg}`)).status, 200, 'on the same channel: no hang-up');

    await row.locator('[data-test=stop]').click();
    await until(
      "the supervisor's phone hung up",
      async () => ((await acdLab.lab.ari('GET', `/channels/${supervisorLeg}`)).status === 404 ? true : undefined),
      10_000,
    );
    await row.locator('[data-test=start-monitor]').waitFor();
    t.pass('the call can be supervised again');
    const audit = await streamEntries(acdLab.lab.redis, `${acdLab.lab.prefix}:audit`);
    t.same(
      audit.filter((a) => a.callId === callId).map((a) => [a.who, a.action, a.mode ?? '']),
      [
        ['banzhang', 'start', 'whisper'],
        ['banzhang', 'mode', 'monitor'],
        ['banzhang', 'stop', 'monitor'],
      ],
      'every action audited with who',
    );
    t.equal((await controller.api('POST', '/api/agents/g1/call/hangup')).status, 200);
    await c.sipp.done;
  },
);

t.test('the supervisor forces an agent not ready with a reason, then signs them out; the page says so', async (t) => {
  const { page } = browser;
  await until(
    'the agent out of wrap-up',
    async () => (await controller.api<{ state: string }>('GET', '/api/agents/g1')).body.state === 'ready' || undefined,
    15_000,
  );
  const row = page.locator('tr.agent-g1');
  await row.locator('[data-test=agent-state][data-state=ready]').waitFor({ timeout: 10_000 });
  await row.locator('[data-test=force-not-ready]').click();
  const reasons = page.locator('[data-test=not-ready-reason] option');
  await reasons.first().waitFor({ state: 'attached' });
  const training =
    (await reasons.allTextContents()).find((x) => x.includes('培训')) ?? (await reasons.first().textContent())!;
  await page.locator('[data-test=not-ready-reason]').selectOption({ label: training });
  await page.locator('[data-test=not-ready-confirm]').click();
  await page.locator('[data-test=agents-notice]').waitFor();
  t.equal(
    (await page.locator('[data-test=agents-notice]').textContent())?.trim(),
    `已将 测试g1 置为未就绪（${training}）。`,
  );
  const api = (await controller.api<{ state: string; reasonLabel?: string }>('GET', '/api/agents/g1')).body;
  t.match(api, { state: 'not-ready', reasonLabel: training }, 'the API agrees');
  await row.locator('[data-test=agent-state][data-state=not-ready]').waitFor({ timeout: 5_000 });

  await row.locator('[data-test=force-sign-out]').click();
  await page.getByText('已将 测试g1 签出。').waitFor();
  t.equal((await controller.api<{ state: string }>('GET', '/api/agents/g1')).body.state, 'logged-out');
  await row.locator('[data-test=agent-state][data-state=logged-out]').waitFor({ timeout: 5_000 });
  t.ok(await row.locator('[data-test=force-sign-out]').isDisabled(), 'a signed-out agent cannot be signed out again');
});

t.test('in English the page reads in English; its controls are reachable by keyboard', async (t) => {
  const { page } = browser;
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Wallboard', exact: true }).waitFor();
  const level = page.locator('[data-test=queue-tile][data-queue=general] [data-test=sl-10]');
  t.match(await level.textContent(), /Service level 10 s.*below target/s);
  t.match(await page.locator('[data-test=agents]').textContent(), /Agents of my teams/);
  await browser.screenshot('supervisor-wallboard-en');
  // From the big-screen button, Tab reaches the alert's, the chart's and the table's controls.
  await page.locator('[data-test=big-screen]').focus();
  const reached: string[] = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement?.getAttribute('data-test') ?? ''));
  }
  for (const control of ['chart-queue', 'filter-team', 'filter-queue', 'filter-state', 'sort-agents'])
    t.ok(reached.includes(control), `${control} reachable by Tab (${reached.filter(Boolean).join(' → ')})`);
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('heading', { name: '实时大屏', exact: true }).waitFor();
});

t.test('the big screen at 1920×1080: the wallboard alone in large type', async (t) => {
  const { page } = browser;
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.locator('[data-test=big-screen]').click();
  await page.locator('[data-test=wallboard].big').waitFor();
  t.equal(await page.locator('[data-test=agents]').count(), 0, 'the other sections step aside');
  const size = await page
    .locator('[data-test=queue-tile][data-queue=general] [data-test=waiting-now]')
    .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  t.ok(size >= 40, `large type (${size}px)`);
  await browser.screenshot('supervisor-big-screen');
  await page.locator('[data-test=big-screen]').click();
  await page.locator('[data-test=agents]').waitFor();
  await page.setViewportSize({ width: 1366, height: 768 });
});

t.test("an agent's session is refused the supervisor's data and page", async (t) => {
  await signIn('g1', 'desk-password-1');
  const { page } = browser;
  await page.locator('[data-test=not-allowed]').waitFor();
  const statuses = await page.evaluate(async () => {
    const get = async (path: string): Promise<number> => (await fetch(path)).status;
    return {
      queues: await get('/api/queues'),
      calls: await get('/api/calls'),
      staffing: await get('/api/reports/staffing?date=2026-01-01&queue=general'),
      otherAgent: await get('/api/agents/g2'),
    };
  });
  t.same(statuses, { queues: 403, calls: 403, staffing: 403, otherAgent: 403 }, 'every read refused');
});
