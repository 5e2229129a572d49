// The supervisor's own browser phone, with real audio: a supervisor signs in on /supervisor,
// the page's JsSIP phone registers as their own seat (sup-banzhang, pushed into Asterisk by the
// controller; Asterisk agrees it is online), and the hand-out of its credentials is audited.
// A SIPp citizen playing 480 Hz reaches a SIPp agent whose audio goes to an RTP ear; the
// supervisor clicks whisper with no desk phone typed in: the browser phone answers by itself,
// and with the page's fake microphone playing 1100 Hz the agent hears the supervisor while the
// citizen does not; barge, without hanging up: the citizen hears them too; monitor: nobody
// hears them, and the page hears the citizen; take-over: the agent leaves, the supervisor and
// the citizen talk, and the page's hang-up ends the call. Every action is in the audit stream.
// Then today's chart draws the 15 s service level next to the 10 s one against their targets,
// as GET /api/reports/staffing has them; and after an Asterisk restart the seat is pushed
// again and the page registers again by itself.
// The browser runs in a network namespace (test/helpers/netns.ts; see phone.test.ts): pjlib
// offers no loopback ICE candidates, so media crosses a veth pair.
// Screenshots: test-results/supervisor-phone-*.png.
import { createSocket } from 'node:dgram';

import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { type AcdLab, acdQueuesWith, citizen, startAcdLab } from '../helpers/acd-lab.js';
import { agentListeningScenario, listen, type ProbeApp, testApp, tonePcap } from '../helpers/audio.js';
import { ensurePagesBuilt, type TestBrowser } from '../helpers/browser.js';
import { ControllerProcess } from '../helpers/controller.js';
import { sleep, streamEntries, until } from '../helpers/lab.js';
import { createNetns, INNER_ADDRESS, type Netns } from '../helpers/netns.js';
import { pageHearsTone } from '../helpers/page-tone.js';
import { browserInNetns, iceOnVeth, signInWithPhone, toneMicrophone } from '../helpers/webrtc.js';

const CITIZEN_HZ = 480;
const SUPERVISOR_HZ = 1100;
const EAR_PORT = 51_530;
const SEAT = 'sup-banzhang';

let netns: Netns;
let acdLab: AcdLab;
let controller: ControllerProcess;
let browser: TestBrowser;
let probe: ProbeApp;
let ear: Awaited<ReturnType<typeof agentEar>>;

/**
 * The agent's speaker: the RTP Asterisk sends the agent's SIPp phone (which sends none), as
 * helpers/audio.ts rtpEar does, but judged by the tone's own level rather than its share of
 * the energy: the agent hears the citizen's loud SIPp tone and the browser's quieter one mixed.
 */
async function agentEar(port: number) {
  const socket = createSocket('udp4');
  let collecting: number[] | undefined;
  const alawToLinear = (byte: number): number => {
    const a = byte ^ 0x55;
    const exponent = (a & 0x70) >> 4;
    let value = (a & 0x0f) << 4;
    value = exponent === 0 ? value + 8 : (value + 0x108) << (exponent - 1);
    return a & 0x80 ? value : -value;
  };
  socket.on('message', (packet) => {
    if (!collecting || packet.length <= 12 || (packet[1]! & 0x7f) !== 8) return;
    for (let i = 12 + (packet[0]! & 0x0f) * 4; i < packet.length; i++) collecting.push(alawToLinear(packet[i]!));
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    /**
     * For `ms`: the share of 100 ms windows in which `hz` is there at an amplitude of at least
     * TONE_FLOOR (about −44 dBFS: plainly audible; the line's noise stays far below), and the
     * tone's median amplitude.
     */
    async hears(ms: number, hz: number): Promise<{ share: number; level: number }> {
      collecting = [];
      await sleep(ms);
      const samples = collecting;
      collecting = undefined;
      const n = 800;
      const coeff = 2 * Math.cos((2 * Math.PI * hz) / 8000);
      const levels: number[] = [];
      for (let start = 0; start + n <= samples.length; start += n) {
        let s1 = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const s0 = samples[start + i]! + coeff * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
        levels.push((2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2))) / n);
      }
      levels.sort((a, b) => a - b);
      return {
        share: levels.length ? levels.filter((l) => l >= TONE_FLOOR).length / levels.length : 0,
        level: Math.round(levels[Math.floor(levels.length / 2)] ?? 0),
      };
    },
    close: () => socket.close(),
  };
}

/** A tone's amplitude (of 32767) from which a party plainly hears it. */
const TONE_FLOOR = 200;

t.before(async () => {
  await ensurePagesBuilt();
  netns = createNetns();
  acdLab = await startAcdLab(
    'supphone',
    30,
    [{ id: 'g1', skills: { general: 5 }, scenario: agentListeningScenario(EAR_PORT), team: 'a' }],
    {
      queues: acdQueuesWith(`  ringSeconds: 10
  wrapUpSeconds: 2
  shortAbandonSeconds: 3
  announce: { firstAfterSeconds: 0, everySeconds: 0 }
  callbackAfterEstimatedWaitSeconds: 0
  afterCallFlow: ""`),
    },
  );
  const { lab } = acdLab;
  // Asterisk's ICE may offer the veth's root side only (last matching rule wins).
  await iceOnVeth(lab);
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
  const put = await controller.api('PUT', '/api/people/banzhang', {
    role: 'supervisor',
    teams: ['a'],
    displayName: '张班长',
    password: 'lead-password-1',
  });
  if (put.status !== 201) throw new Error(`PUT /api/people/banzhang: ${put.status} ${JSON.stringify(put.body)}`);
  probe = await testApp(lab);
  ear = await agentEar(EAR_PORT);
  // The supervisor's fake microphone: a long uncompressed WAV, still playing when the calls come.
  const wav = toneMicrophone('supphone', SUPERVISOR_HZ, 360);
  browser = await browserInNetns(netns, [lab.ports.controller, lab.ports.ari], wav);
});

t.teardown(async () => {
  ear?.close();
  probe?.close();
  await browser?.close();
  await controller?.kill('SIGKILL');
  await acdLab?.close();
  netns?.close();
});

/** Share of 50 ms frames of the page's remote stream in which `hz` dominates. */
const pageHears = (hz: number, ms: number): Promise<number> =>
  pageHearsTone(browser.page, '[data-test=seat-remote-audio]', hz, ms);

const seatStatus = () => browser.page.locator('[data-test=seat-status]');
const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
const heard = (x: { share: number; level: number }): string => `${pct(x.share)} of windows, level ${x.level}`;

t.test("the supervisor's own browser phone registers as their seat, and the hand-out is audited", async (t) => {
  const { page } = browser;
  const { lab } = acdLab;
  await signInWithPhone(page, `${controller.url}/supervisor/`, 'banzhang', 'lead-password-1', {
    status: '[data-test=seat-status]',
    timeoutMs: 20_000,
  });
  t.pass('the page says 电话：已注册');
  const endpoint = await lab.ari<{ state: string }>('GET', `/endpoints/PJSIP/${SEAT}`);
  t.equal(endpoint.body.state, 'online', `Asterisk agrees: ${SEAT} is online`);
  t.match(
    await lab.asterisk.command('pjsip show contacts'),
    new RegExp(`${SEAT}/sip:`),
    'a contact over the WebSocket',
  );

  const mine = await page.evaluate(async () => {
    const res = await fetch('/api/session/phone?name=laoli&agent=g1');
    return { status: res.status, body: (await res.json()) as { authUser: string; autoAnswer: boolean } };
  });
  t.equal(mine.status, 200);
  t.equal(mine.body.authUser, SEAT, "the route answers the session's own seat, whatever is asked");
  t.equal(mine.body.autoAnswer, true, 'a seat that answers by itself');
  const audit = await streamEntries(lab.redis, `${lab.prefix}:audit:sign-in`);
  t.ok(
    audit.some((e) => e.event === 'phone-credentials' && e.name === 'banzhang' && e.endpoint === SEAT),
    "the hand-out of the seat's credentials is audited",
  );
  t.equal((await controller.api('GET', '/api/session/phone')).status, 403, 'the admin token gets no phone');
});

t.test(
  'whisper from the page on its own phone: the agent hears the supervisor, the citizen does not; ' +
    'barge without hanging up: the citizen hears them too; monitor: nobody does; take-over; hang up',
  async (t) => {
    const { page } = browser;
    const { lab } = acdLab;
    t.equal((await controller.api('POST', '/api/agents/g1/login', { ready: true })).status, 200);
    const c = citizen(lab, controller, {
      did: '7001',
      caller: '13800000301',
      steps: [{ pcap: tonePcap(CITIZEN_HZ, 90) }],
    });
    const { callId } = (await c.log(LogEvent.callConnectedToAgent)) as { callId: string };
    const supervisorLeg = `${callId}-s1`;
    const row = page.locator('tr', { has: page.locator(`[data-call="${callId}"]`) });
    await row.waitFor({ timeout: 10_000 });
    t.equal(await page.getByLabel('我的话机（工号）').inputValue(), '', 'no desk phone typed in');

    await row.locator('[data-test=start-whisper]').click();
    await page.locator('[data-test=calls-notice]', { hasText: '正在接通您的浏览器话机' }).waitFor({ timeout: 10_000 });
    await c.log(LogEvent.supervisorJoined, 15_000);
    await until(
      'the page is talking',
      async () => /^通话中：/.test((await page.locator('[data-test=seat-call]').textContent()) ?? ''),
      10_000,
      100,
    );
    t.pass('the browser phone answered by itself and is talking');
    await row.locator('[data-test=supervising][data-mode=whisper]').waitFor();
    const dest = await lab.ari<{ value: string }>(
      'GET',
      `/channels/${supervisorLeg}/variable?variable=${encodeURIComponent('CHANNEL(rtp,dest)')}`,
    );
    t.match(
      dest.body.value,
      new RegExp(`^${INNER_ADDRESS.replaceAll('.', '\\.')}:\\d+$`),
      `over the veth (${dest.body.value})`,
    );
    const name = (await lab.ari<{ name: string }>('GET', `/channels/${supervisorLeg}`)).body.name;
    t.match(name, new RegExp(`^PJSIP/${SEAT}-`), `the supervisor's own seat was rung (${name})`);
    await sleep(1_000); // the browser's audio processing settles on the tone

    let n = 0;
    const citizenHears = async (hz: number): Promise<number> =>
      (await listen(lab, probe, callId, `supphone-${n++}`, 1500, hz)).toneWindows;
    const whisper = {
      agentHearsSupervisor: await ear.hears(1500, SUPERVISOR_HZ),
      agentHearsCitizen: await ear.hears(1500, CITIZEN_HZ),
      citizenHearsSupervisor: await citizenHears(SUPERVISOR_HZ),
      pageHearsCitizen: await pageHears(CITIZEN_HZ, 1500),
    };
    t.ok(
      whisper.agentHearsSupervisor.share > 0.7,
      `whisper: the agent hears the supervisor (${heard(whisper.agentHearsSupervisor)})`,
    );
    t.ok(whisper.agentHearsCitizen.share > 0.7, `whisper: and the citizen (${heard(whisper.agentHearsCitizen)})`);
    t.ok(
      whisper.citizenHearsSupervisor < 0.1,
      `whisper: the citizen does not (${pct(whisper.citizenHearsSupervisor)})`,
    );
    t.ok(whisper.pageHearsCitizen > 0.5, `whisper: the page hears the citizen (${pct(whisper.pageHearsCitizen)})`);
    await page.locator('[data-test=live-calls]').scrollIntoViewIfNeeded();
    await browser.screenshot('supervisor-phone-whisper');

    await row.locator('[data-test=switch-barge]').click();
    await row.locator('[data-test=supervising][data-mode=barge]').waitFor();
    await page.locator('[data-test=calls-notice]', { hasText: '已切换为强插，通话未中断' }).waitFor({ timeout: 5_000 });
    await sleep(500);
    const barge = {
      citizenHearsSupervisor: await citizenHears(SUPERVISOR_HZ),
      agentHearsSupervisor: await ear.hears(1500, SUPERVISOR_HZ),
    };
    t.ok(
      barge.citizenHearsSupervisor > 0.5,
      `barge: the citizen hears the supervisor now (${pct(barge.citizenHearsSupervisor)})`,
    );
    t.ok(barge.agentHearsSupervisor.share > 0.7, `barge: and the agent still (${heard(barge.agentHearsSupervisor)})`);
    t.equal((await lab.ari('GET', `/channels/${supervisorLeg}`)).status, 200, 'on the same channel: no hang-up');
    t.match(await page.locator('[data-test=seat-call]').textContent(), /^通话中：/, 'the page is still on its call');
    await browser.screenshot('supervisor-phone-barge');

    await row.locator('[data-test=switch-monitor]').click();
    await row.locator('[data-test=supervising][data-mode=monitor]').waitFor();
    await page.locator('[data-test=calls-notice]', { hasText: '已切换为监听，通话未中断' }).waitFor({ timeout: 5_000 });
    await sleep(500);
    const monitor = {
      agentHearsSupervisor: await ear.hears(1500, SUPERVISOR_HZ),
      citizenHearsSupervisor: await citizenHears(SUPERVISOR_HZ),
      pageHearsCitizen: await pageHears(CITIZEN_HZ, 1500),
    };
    t.ok(
      monitor.agentHearsSupervisor.share < 0.1,
      `monitor: the agent does not hear them (${heard(monitor.agentHearsSupervisor)})`,
    );
    t.ok(monitor.citizenHearsSupervisor < 0.1, `monitor: nor the citizen (${pct(monitor.citizenHearsSupervisor)})`);
    t.ok(monitor.pageHearsCitizen > 0.5, `monitor: the page hears the citizen (${pct(monitor.pageHearsCitizen)})`);
    t.equal((await lab.ari('GET', `/channels/${supervisorLeg}`)).status, 200, 'still the same channel');

    await row.locator('[data-test=take-over]').click();
    await page.locator('[data-test=calls-notice]', { hasText: '已接管通话' }).waitFor({ timeout: 5_000 });
    await until(
      "the agent's leg is gone",
      async () => {
        const { body } = await lab.ari<Array<{ name: string }>>('GET', '/channels');
        return !body.some((ch) => ch.name.startsWith('PJSIP/agent-g1')) || undefined;
      },
      10_000,
    );
    await sleep(500);
    const taken = {
      citizenHearsSupervisor: await citizenHears(SUPERVISOR_HZ),
      pageHearsCitizen: await pageHears(CITIZEN_HZ, 1500),
    };
    t.ok(
      taken.citizenHearsSupervisor > 0.5,
      `take-over: the citizen talks with the supervisor (${pct(taken.citizenHearsSupervisor)})`,
    );
    t.ok(taken.pageHearsCitizen > 0.5, `take-over: the page hears the citizen (${pct(taken.pageHearsCitizen)})`);
    await browser.screenshot('supervisor-phone-taken-over');

    await page.locator('[data-test=seat-hang-up]').click();
    await until(
      'the page is idle again',
      async () => (await page.locator('[data-test=seat-call]').textContent()) === '空闲',
      10_000,
      100,
    );
    await until(
      "the citizen's call is over",
      async () => ((await lab.ari('GET', `/channels/${callId}`)).status === 404 ? true : undefined),
      10_000,
    );
    t.pass("the page's hang-up ends the taken-over call");
    await c.sipp.done.catch(() => undefined);
    const audit = await streamEntries(lab.redis, `${lab.prefix}:audit`);
    t.same(
      audit.filter((a) => a.callId === callId).map((a) => [a.who, a.action, a.mode ?? '', a.phone ?? '']),
      [
        ['banzhang', 'start', 'whisper', SEAT],
        ['banzhang', 'mode', 'barge', ''],
        ['banzhang', 'mode', 'monitor', ''],
        ['banzhang', 'take-over', '', ''],
      ],
      'every action audited with who (and the seat rung)',
    );
    t.same(browser.errors, [], 'no console errors');
  },
);

interface Staffing {
  rows: Array<{ from: string; offered: number }>;
  serviceLevels: Array<{ seconds: number; targetPercent: number; percent: Array<number | null> }>;
}

t.test("today's chart draws the 15 s service level next to the 10 s one, each against its target", async (t) => {
  const { page } = browser;
  const date = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
  const report = await until(
    'the call in the staffing report',
    async () => {
      const res = await controller.api<Staffing>('GET', `/api/reports/staffing?date=${date}&queue=general`);
      return res.status === 200 && res.body.rows.some((r) => r.offered > 0) ? res.body : undefined;
    },
    20_000,
    500,
  );
  t.same(
    report.serviceLevels.map((l) => [l.seconds, l.targetPercent]),
    [
      [10, 90],
      [15, 95],
    ],
    "the report has the queue's two targets",
  );
  await page.reload();
  const chart = page.locator('[data-test=sl-chart]');
  await chart.waitFor({ timeout: 15_000 });
  const drawn = await until(
    'the chart drawn',
    async () => (await chart.getAttribute('data-series')) || undefined,
    10_000,
  );
  const series = drawn.split(' ').map((s) => {
    const [seconds, target, values] = s.split(':');
    return { seconds: Number(seconds), target: Number(target), values: values!.split('/').filter(Boolean).map(Number) };
  });
  t.same(
    series.map((s) => [s.seconds, s.target, s.values]),
    report.serviceLevels.map((l) => [l.seconds, l.targetPercent, l.percent.filter((p) => p !== null)]),
    'the chart shows both series with their targets, as the API counts them',
  );
  t.match(
    await chart.getAttribute('aria-label'),
    /15 秒服务水平为 \d+(\.\d)?%（目标 95%）/,
    'and says the 15 s level in words',
  );
  await chart.scrollIntoViewIfNeeded();
  await sleep(500);
  await browser.screenshot('supervisor-phone-chart');
});

t.test('after Asterisk restarts, the seat is pushed again and the page registers again by itself', async (t) => {
  const { lab } = acdLab;
  await lab.asterisk.stop();
  await until(
    'the page says it lost the phone',
    async () => (await seatStatus().textContent()) !== '电话：已注册',
    15_000,
    100,
  );
  t.pass(`the page says so (${await seatStatus().textContent()})`);
  await lab.asterisk.start();
  await until(
    'the page registers again',
    async () => (await seatStatus().textContent()) === '电话：已注册',
    45_000,
    200,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; the page shows "${await seatStatus().textContent()}"`);
  });
  t.equal(
    (await lab.ari<{ state: string }>('GET', `/endpoints/PJSIP/${SEAT}`)).body.state,
    'online',
    'Asterisk has the pushed seat and its contact again',
  );
  await browser.screenshot('supervisor-phone-registered-again');
});
