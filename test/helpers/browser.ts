// A real browser for page tests: Debian's Chromium (apt `chromium`, installed by
// scripts/install-deps.sh) driven by playwright-core, which downloads no browser of its own.
// Each launch gets a fresh profile (--user-data-dir in a scratch directory), so no cookie
// or storage leaks from one test to the next. The agent desk's tests pass `fakeMedia` to
// give the page a microphone that plays a WAV file and to grant the permission prompt.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { type BrowserContext, chromium, type Page } from 'playwright-core';

import { repoRoot } from '../../src/asterisk/instance.js';
import { scratchDir } from './scratch.js';

export const CHROMIUM = process.env.REXIAN_CHROMIUM ?? '/usr/bin/chromium';

/** Where test runs leave screenshots for people to look at (gitignored, kept after the run). */
export const resultsDir = join(repoRoot, 'test-results');

export interface BrowserOptions {
  /** A fake microphone playing this WAV file once (and fake cameras), with the media permission granted. */
  fakeMedia?: { audioFile: string };
  /** Default 1366×768, the agent desk's smallest screen. */
  viewport?: { width: number; height: number };
  locale?: string;
  /** Another way to start Chromium (a wrapper running it in a network namespace, say). */
  executablePath?: string;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (a CSP violation shows up here). */
  errors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export function chromiumArgs(options: BrowserOptions = {}): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(options.fakeMedia
      ? [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${options.fakeMedia.audioFile}%noloop`,
        ]
      : []),
  ];
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/install-deps.sh (apt chromium) or set REXIAN_CHROMIUM`);
  const context = await chromium.launchPersistentContext(scratchDir('chromium-profile'), {
    executablePath: options.executablePath ?? CHROMIUM,
    headless: true,
    args: chromiumArgs(options),
    viewport: options.viewport ?? { width: 1366, height: 768 },
    locale: options.locale ?? 'zh-CN',
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(`page error: ${e.error().message}`));
  // An API refusal (401 before sign-in, say) is logged by Chromium as "Failed to load resource":
  // that is the page working, not failing.
  context.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    async screenshot(name) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
    close: () => context.close(),
  };
}

/** Newest modification time of the page sources (web/, without its build output). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds web/dist (npm run build:web) unless it is newer than every page source. */
export async function ensurePagesBuilt(): Promise<void> {
  const built = join(repoRoot, 'web/dist/agent/index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource(join(repoRoot, 'web'))) return;
  const { spawnSync } = await import('node:child_process');
  const res = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: repoRoot, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`npm run build:web failed:\n${res.stdout}\n${res.stderr}`);
}

/**
 * Opens a page and signs in as this person, signing out first whoever the page already has.
 * The page decides which it shows only once it has asked the API, so wait for one of the two
 * (looking at once would find neither and skip the sign-out).
 */
export async function signInAs(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(url);
  const signOut = page.locator('[data-test=sign-out]');
  const nameField = page.getByLabel('工号或用户名');
  await signOut.or(nameField).first().waitFor();
  if (await signOut.count()) await signOut.click();
  await nameField.fill(name);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('[data-test=person-name]').waitFor();
}
