// What the browser tests share: the Debian chromium, its flags, where screenshots go, when to skip,
// and a context that refuses (and records) every request leaving 127.0.0.1.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = 'test-output/screenshots';
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing: install the Debian chromium package`);
const built = existsSync('console/dist/index.html');
/** Skipped (with the reason) when chromium is absent locally; CI=true makes them run or fail. */
export const skip = missing ? `${CHROMIUM} is not installed (apt-get install -y chromium)` : !built ? 'console/dist is not built (npm run build:console)' : false;

export async function launch(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  // playwright gives every launch a fresh temporary profile (user-data-dir)
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A 1024 px wide context; requests off 127.0.0.1 are aborted and pushed onto `offsite`. */
export async function newContext(browser: Browser, offsite: string[]): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  await ctx.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1') return route.continue();
    offsite.push(route.request().url());
    return route.abort();
  });
  return ctx;
}
