/**
 * A real browser for dashboard tests and benches: Debian's chromium driven by playwright-core
 * (never a downloaded browser), pages with a fixed 1440×900 viewport, console and page errors
 * collected so a test can assert there were none, and screenshots under test-artifacts/dashboard/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const VIEWPORT = { width: 1440, height: 900 } as const;
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

/**
 * Console messages a dashboard shows by design: the browser logs every refused request, and
 * the app asks `/api/v1/auth/me` before login (401) and may try a route a role lacks (403).
 */
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of 40[13]\b/;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Debian's browser with \`apt-get install -y --no-install-recommends chromium fonts-dejavu-core\``,
    );
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--headless=new'] });
}

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Every console error and uncaught page error so far, expected ones included. */
  errors: string[];
  /** The errors a test should fail on: all but the expected 401/403 resource errors and `allowErrors`. */
  unexpectedErrors(): string[];
  /** Errors a test provokes on purpose (a refused query's 400), matched against the console text. */
  allowErrors(pattern: RegExp): void;
  /** Saves a full-page PNG as test-artifacts/dashboard/<name>.png; resolves to its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A page in a new context (its own cookies), errors collected from the start. */
export async function openTestPage(browser: Browser, options: { baseURL?: string } = {}): Promise<TestPage> {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const allowed: RegExp[] = [EXPECTED_ERROR];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.stack ?? error.message}`));
  return {
    context,
    page,
    errors,
    unexpectedErrors: () => errors.filter((text) => !allowed.some((pattern) => pattern.test(text))),
    allowErrors: (pattern) => void allowed.push(pattern),
    async screenshot(name) {
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => context.close(),
  };
}
