// `npm run bench:desk`: the agent desk measured in a real Chromium against the real controller
// (and Asterisk, Redis, PostgreSQL: the test lab, slot 93). An agent signs in on /agent/ and
// 100 state changes are clicked, alternating ready and not ready (StateSwitch's buttons
// `[data-test=state-ready]`, `[data-test=state-not-ready]`); for each:
//   click → applied on the server: the agent's state in Redis (polled back to back), and
//   click → shown in the page: `[data-test=agent-state]` takes the new `data-state`
// both from the click event's own time in the page (Playwright's overhead is not counted),
// p50 and p95. Then the page's first load on loopback (navigation start to the load event),
// cold (browser cache cleared) and warm, 5 each, and the agent page's JavaScript as loaded by
// the browser, gzipped (level 9, from web/dist). Printed against the goals
// (p95 ≤ 150 ms, first load ≤ 1 s, JavaScript ≤ 400 kB gzipped); the last line is one JSON
// object with the figures. `--actions=N` changes the count. Needs the pages built
// (npm run build:web); run it under the integration lock like a test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { repoRoot } from '../src/asterisk/instance.js';
import { startAcdLab } from '../test/helpers/acd-lab.js';
import { ensurePagesBuilt, launchBrowser } from '../test/helpers/browser.js';
import { ControllerProcess } from '../test/helpers/controller.js';
import { until } from '../test/helpers/lab.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ACTIONS = Number(args.get('actions') ?? 100);
const LOADS = 5;
const GOALS = { p95Ms: 150, firstLoadMs: 1000, jsGzipKb: 400 };
const AGENT = 'bench1';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const verdict = (ok: boolean): string => (ok ? 'meets the goal' : 'MISSES the goal');

async function main(): Promise<void> {
  await ensurePagesBuilt();
  // A desk-phone seat: the page is the control panel only (no microphone, no WebRTC).
  const acdLab = await startAcdLab('bench-desk', 93, [
    { id: AGENT, skills: { general: 5 }, scenario: 'none', device: 'sip' },
  ]);
  const { lab } = acdLab;
  const controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  const browser = await launchBrowser();
  try {
    await controller.waitReady();
    const put = await controller.api('PUT', `/api/people/${AGENT}`, { role: 'agent', password: 'bench-desk-pass' });
    if (put.status !== 201) throw new Error(`PUT /api/people/${AGENT}: ${put.status} ${JSON.stringify(put.body)}`);
    const login = await controller.api('POST', `/api/agents/${AGENT}/login`, {});
    if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);

    const { page } = browser;
    await page.goto(`${controller.url}/agent/`);
    await page.getByLabel('工号或用户名').fill(AGENT);
    await page.getByLabel('密码', { exact: true }).fill('bench-desk-pass');
    await page.getByRole('button', { name: '登录' }).click();
    const shown = page.locator('[data-test=agent-state]');
    await until(
      'the desk shows the agent not ready',
      async () => (await shown.getAttribute('data-state').catch(() => null)) === 'not-ready',
      15_000,
      50,
    );

    // In the page: when each click happened and when the state shown changed, by its own clock.
    await page.evaluate(() => {
      const w = window as unknown as { bench: { clicks: number[]; shown: Array<{ state: string; at: number }> } };
      w.bench = { clicks: [], shown: [] };
      document.addEventListener(
        'click',
        (e) => {
          if ((e.target as Element).closest('[data-test=state-ready], [data-test=state-not-ready]'))
            w.bench.clicks.push(Date.now());
        },
        true,
      );
      let last = document.querySelector('[data-test=agent-state]')?.getAttribute('data-state');
      new MutationObserver(() => {
        const now = document.querySelector('[data-test=agent-state]')?.getAttribute('data-state');
        if (now && now !== last) {
          last = now;
          w.bench.shown.push({ state: now, at: Date.now() });
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    });

    const key = `${lab.prefix}:agent:${AGENT}`;
    const server: number[] = [];
    const screen: number[] = [];
    for (let i = 0; i < ACTIONS; i++) {
      const target = i % 2 === 0 ? 'ready' : 'not-ready';
      const button = page.locator(`[data-test=${target === 'ready' ? 'state-ready' : 'state-not-ready'}]`);
      await until(`${target} can be clicked`, () => button.isEnabled(), 5_000, 5);
      let applied = 0;
      const polling = (async () => {
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          if ((await lab.redis.hget(key, 'state')) === target) return (applied = Date.now());
        }
        throw new Error(`the server never applied ${target}`);
      })();
      await button.click();
      await polling;
      const seen = await until(
        `the page shows ${target}`,
        () =>
          page.evaluate((target) => {
            const b = (
              window as unknown as { bench: { clicks: number[]; shown: Array<{ state: string; at: number }> } }
            ).bench;
            const click = b.clicks.at(-1)!;
            const s = b.shown.find((x) => x.state === target && x.at >= click);
            return s ? { click, at: s.at } : undefined;
          }, target),
        5_000,
        5,
      );
      server.push(Math.max(0, applied - seen.click));
      screen.push(seen.at - seen.click);
    }

    // First load: navigation start to the load event, with the browser cache cleared (cold) and kept (warm).
    const cdp = await browser.context.newCDPSession(page);
    const scripts = new Set<string>();
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.add(new URL(r.url()).pathname);
    });
    const loadMs = async (): Promise<number> => {
      await page.goto(`${controller.url}/agent/`, { waitUntil: 'load' });
      return page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return nav.loadEventEnd - nav.startTime;
      });
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await cdp.send('Network.clearBrowserCache');
      cold.push(await loadMs());
      warm.push(await loadMs());
    }
    let jsGzip = 0;
    const files: string[] = [];
    for (const path of scripts) {
      const bytes = readFileSync(join(repoRoot, 'web/dist', path));
      jsGzip += gzipSync(bytes, { level: 9 }).length;
      files.push(`${path} ${(bytes.length / 1024).toFixed(0)} kB`);
    }
    const jsKb = jsGzip / 1024;

    const figures = {
      actions: ACTIONS,
      serverP50Ms: percentile(server, 50),
      serverP95Ms: percentile(server, 95),
      pageP50Ms: percentile(screen, 50),
      pageP95Ms: percentile(screen, 95),
      coldLoadMedianMs: Math.round(percentile(cold, 50)),
      coldLoadMaxMs: Math.round(Math.max(...cold)),
      warmLoadMedianMs: Math.round(percentile(warm, 50)),
      warmLoadMaxMs: Math.round(Math.max(...warm)),
      jsGzipKb: Math.round(jsKb * 10) / 10,
    };
    console.log(`agent desk, ${ACTIONS} state changes clicked (ready / not ready alternately):`);
    console.log(
      `  click → applied on the server  p50 ${figures.serverP50Ms} ms  p95 ${figures.serverP95Ms} ms  ` +
        `(goal p95 ≤ ${GOALS.p95Ms} ms: ${verdict(figures.serverP95Ms <= GOALS.p95Ms)})`,
    );
    console.log(
      `  click → shown in the page      p50 ${figures.pageP50Ms} ms  p95 ${figures.pageP95Ms} ms  ` +
        `(goal p95 ≤ ${GOALS.p95Ms} ms: ${verdict(figures.pageP95Ms <= GOALS.p95Ms)})`,
    );
    console.log(
      `first load of /agent/ on loopback: cold median ${figures.coldLoadMedianMs} ms (max ${figures.coldLoadMaxMs}), ` +
        `warm median ${figures.warmLoadMedianMs} ms (max ${figures.warmLoadMaxMs})  ` +
        `(goal ≤ ${GOALS.firstLoadMs} ms: ${verdict(figures.coldLoadMaxMs <= GOALS.firstLoadMs)})`,
    );
    console.log(
      `JavaScript of the agent page: ${figures.jsGzipKb} kB gzipped in ${scripts.size} files ` +
        `(goal ≤ ${GOALS.jsGzipKb} kB: ${verdict(jsKb <= GOALS.jsGzipKb)})`,
    );
    for (const f of files) console.log(`  ${f} (uncompressed)`);
    console.log(JSON.stringify(figures));
  } finally {
    await browser.close();
    await controller.kill('SIGKILL');
    await acdLab.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
