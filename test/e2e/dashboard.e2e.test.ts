/**
 * The dashboard in a real browser (Debian chromium via playwright-core) against one real server
 * process with access control ON and a 20-device demo fleet: log in through the form, compare the
 * numbers the pages show with the API's, run a bad and a good fleet query, open a device, start and
 * pause a rollout, acknowledge an alert, and check that a viewer sees no operation buttons and is
 * refused by the API. Pages are selected by the data-testid contract in docs/dashboard.md
 * ("Testing the dashboard"); every scenario saves a screenshot under test-artifacts/dashboard/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openTestPage, type TestPage } from '../helpers/browser.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 20;
const VIEWER = { name: 'e2e-viewer', password: 'viewer-password-e2e' };
/** A model of the demo fleet (seed 42) and the release newer than it runs (src/cli/demo-releases.ts). */
const MODEL = 'tracker-2';
const NEW_VERSION = '2.5.0';
/** Long enough for a page's first API answers on a busy 2-core CI machine; short enough to fail fast. */
const UI_TIMEOUT_MS = 15_000;

/** As the pages format numbers (ui/format.ts formatNumber). */
const formatNumber = (value: number): string => value.toLocaleString('en-US');
const squash = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

interface FleetSummary {
  devices: { total: number; online: number };
}
interface AlertView {
  id: string;
  state: string;
}

/** Logs in through the API (for set-up calls, not for the browser) and returns a JSON client. */
async function apiSession(baseUrl: string, username: string, password: string) {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(login.status, 200, await login.text());
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
}

/** GET through the browser's own session (page.request shares the context's cookies). */
async function browserGet<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  assert.equal(response.status(), 200, `GET ${path}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Waits until the element's text satisfies `predicate`; the message names the last text seen. */
async function waitForText(
  page: Page,
  selector: string,
  predicate: (text: string) => boolean | Promise<boolean>,
  what: string,
): Promise<string> {
  let last = '';
  try {
    await waitFor(
      async () => {
        last = squash(await page.locator(selector).first().textContent({ timeout: UI_TIMEOUT_MS }));
        return predicate(last);
      },
      { timeoutMs: UI_TIMEOUT_MS, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${selector} last showed "${last}"`);
  }
  return last;
}

/** Goes to a dashboard route (`/devices`), waiting for the app's layout to render. */
async function go(page: Page, route: string): Promise<void> {
  await page.goto(`/#${route}`);
  await page.locator('[data-testid=whoami]').waitFor({ timeout: UI_TIMEOUT_MS });
}

async function confirmDialog(page: Page): Promise<void> {
  await page.locator('[data-testid=confirm]').click({ timeout: UI_TIMEOUT_MS });
}

async function loginThroughForm(page: Page, username: string, password: string): Promise<void> {
  await page.locator('input[name=username]').fill(username, { timeout: UI_TIMEOUT_MS });
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await waitForText(page, '[data-testid=whoami]', (text) => text === username, `${username} signed in`);
}

describe('dashboard in chromium (access control on, demo fleet)', { timeout: 180_000 }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let tab: TestPage;
  let page: Page;
  let baseUrl: string;
  let adminPassword: string;
  /** Set by the scenarios for the later ones (the viewer's checks). */
  let deviceId: string | undefined;
  let rolloutId: string | undefined;
  let alertId: string | undefined;

  /** Runs a scenario and saves `<name>.png` whatever happens (`<name>-failed.png` on failure). */
  async function scenario(name: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
      await tab.screenshot(name);
    } catch (err) {
      await tab.screenshot(`${name}-failed`).catch(() => undefined);
      throw err;
    }
  }

  before(async () => {
    [browser, server] = await Promise.all([
      launchChromium(),
      startServerProcess({
        auth: { enabled: true },
        demoDevices: DEVICES,
        // The demo's alert rules fire on the first evaluation; evaluate every second, not minute.
        alerts: { evaluationIntervalS: 1 },
      }),
    ]);
    baseUrl = `http://127.0.0.1:${server.httpPort}`;
    adminPassword = (await readFile(join(server.dataDir, 'initial-admin-password'), 'utf8')).trim();
    const admin = await apiSession(baseUrl, 'admin', adminPassword);
    const created = await admin('POST', '/api/v1/users', {
      name: VIEWER.name,
      password: VIEWER.password,
      roles: [{ role: 'viewer' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    tab = await openTestPage(browser, { baseURL: baseUrl });
    page = tab.page;
  });

  after(async () => {
    await tab?.close();
    await browser?.close();
    await server?.close();
  });

  it('(a) logs in as admin through the form', () =>
    scenario('a-login', async () => {
      await page.goto('/');
      await loginThroughForm(page, 'admin', adminPassword);
    }));

  it('(b) overview: total and online match the fleet summary; the live stream is live', () =>
    scenario('b-overview', async () => {
      await waitFor(
        async () => {
          const summary = await browserGet<FleetSummary>(page, '/api/v1/fleet/summary');
          return summary.devices.online === DEVICES;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `all ${DEVICES} demo devices online` },
      );
      await go(page, '/');
      // The page may show an older reading until its next refresh: compare with a fresh API read.
      for (const [testid, field] of [
        ['stat-total', 'total'],
        ['stat-online', 'online'],
      ] as const) {
        await waitForText(
          page,
          `[data-testid=${testid}] .stat-value`,
          async (text) =>
            text ===
            formatNumber((await browserGet<FleetSummary>(page, '/api/v1/fleet/summary')).devices[field]),
          `${testid} equal to the fleet summary's devices.${field}`,
        );
      }
      await waitForText(page, '[data-testid=live]', (text) => /^live\b/i.test(text), 'the live indicator');
    }));

  it('(c) devices: a bad query shows the API message in place; a good one the count and rows', () =>
    scenario('c-devices', async () => {
      const bad = 'model ==';
      const refused = await page.request.get(`/api/v1/devices?where=${encodeURIComponent(bad)}`);
      assert.equal(refused.status(), 400);
      const apiMessage = ((await refused.json()) as { error: { message: string } }).error.message;
      // The browser logs the API's refusals of the bad query (list and count) as failed resources.
      tab.allowErrors(
        /status of 400 \(Bad Request\) \(\S*\/api\/v1\/devices(\/count)?\?\S*where=model\+%3D%3D/,
      );
      await go(page, '/devices');
      await page.locator('[data-testid=query-input]').fill(bad, { timeout: UI_TIMEOUT_MS });
      await page.locator('[data-testid=query-run]').click();
      // The message's first line (a page may draw its own caret under the query instead of the API's).
      const firstLine = squash(apiMessage.split('\n')[0] ?? apiMessage);
      await waitForText(page, '[data-testid=query-error]', (t) => t.includes(firstLine), 'the query error');
      await tab.screenshot('c-devices-bad-query');

      const good = `model = "${MODEL}"`;
      const where = encodeURIComponent(good);
      const { count } = await browserGet<{ count: number }>(page, `/api/v1/devices/count?where=${where}`);
      const { items } = await browserGet<{ items: Array<{ id: string }> }>(
        page,
        `/api/v1/devices?where=${where}&limit=50`,
      );
      assert.ok(count > 0, `the demo fleet has ${MODEL} devices`);
      await page.locator('[data-testid=query-input]').fill(good);
      await page.locator('[data-testid=query-run]').click();
      await waitForText(page, '[data-testid=device-count]', (t) => t.includes(formatNumber(count)), 'count');
      const rows = page.locator('[data-testid=device-table] tr[data-device-id]');
      await waitFor(async () => (await rows.count()) === items.length, { what: 'one row per device' });
      const shown = await rows.evaluateAll((trs: Array<{ getAttribute(name: string): string | null }>) =>
        trs.map((tr) => tr.getAttribute('data-device-id')),
      );
      assert.deepEqual([...shown].sort(), items.map((d) => d.id).sort());
      assert.equal(await page.locator('[data-testid=query-error]').count(), 0, 'the old error is gone');
    }));

  it('(d) opens a device from the list', () =>
    scenario('d-device', async () => {
      const row = page.locator('[data-testid=device-table] tr[data-device-id]').first();
      deviceId = (await row.getAttribute('data-device-id', { timeout: UI_TIMEOUT_MS })) ?? undefined;
      assert.ok(deviceId, 'a device row');
      await row.locator(`a[href="#/devices/${deviceId}"]`).first().click();
      await waitForText(page, '[data-testid=device-id]', (t) => t.includes(deviceId ?? '?'), 'device id');
      for (const card of ['card-identity', 'card-config', 'card-telemetry'])
        await page.locator(`[data-testid=${card}]`).waitFor({ timeout: UI_TIMEOUT_MS });
    }));

  it('(e) starts a rollout of a newer release after a dry run, then pauses it', () =>
    scenario('e-rollout', async () => {
      const stages = [{ percent: 50 }, { percent: 100 }];
      const dryRun = await page.request.post('/api/v1/rollouts/dry-run', {
        data: { release: { model: MODEL, version: NEW_VERSION }, stages },
      });
      assert.equal(dryRun.status(), 200, await dryRun.text());
      const expected = ((await dryRun.json()) as { devices: number }).devices;
      assert.ok(expected > 0, 'the new release has devices to update');

      await go(page, `/rollouts/new?model=${MODEL}&version=${NEW_VERSION}`);
      assert.equal(await page.locator('select[name=model]').inputValue({ timeout: UI_TIMEOUT_MS }), MODEL);
      await waitFor(async () => (await page.locator('select[name=version]').inputValue()) === NEW_VERSION, {
        what: `version ${NEW_VERSION} selected`,
      });
      await page.locator('input[name=stages]').fill(stages.map((s) => s.percent).join(','));
      // A page may run the dry run on change or behind a button: press the button when there is one.
      const dryRunButton = page.getByRole('button', { name: /dry run/i });
      if ((await dryRunButton.count()) > 0) await dryRunButton.first().click();
      await waitForText(
        page,
        '[data-testid=rollout-dry-run-count]',
        (t) => t === String(expected),
        'the dry-run count',
      );
      await tab.screenshot('e-rollout-dry-run');
      await page.locator('[data-testid=rollout-create]:enabled').click({ timeout: UI_TIMEOUT_MS });
      await confirmDialog(page);
      await page.waitForURL(/#\/rollouts\/(?!new)[^/?]+$/, { timeout: UI_TIMEOUT_MS });
      rolloutId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/rollouts\//, ''));
      await waitForText(page, '[data-testid=rollout-status]', (t) => t === 'running', 'status running');
      await tab.screenshot('e-rollout-running');

      await page.locator('[data-testid=rollout-pause]').click({ timeout: UI_TIMEOUT_MS });
      await confirmDialog(page);
      await waitForText(page, '[data-testid=rollout-status]', (t) => t === 'paused', 'status paused');
      const view = await browserGet<{ rollout: { state: { status: string } } }>(
        page,
        `/api/v1/rollouts/${encodeURIComponent(rolloutId)}`,
      );
      assert.equal(view.rollout.state.status, 'paused');
    }));

  it('(f) acknowledges an alert', () =>
    scenario('f-alerts', async () => {
      await waitFor(
        async () =>
          (await browserGet<{ items: AlertView[] }>(page, '/api/v1/alerts?state=open&limit=1')).items.length >
          0,
        { timeoutMs: 60_000, intervalMs: 500, what: 'an open alert from the demo rules' },
      );
      await go(page, '/alerts');
      const row = page.locator('[data-testid=alert-table] tr[data-alert-id]', {
        has: page.locator('[data-testid=alert-ack]'),
      });
      alertId = (await row.first().getAttribute('data-alert-id', { timeout: UI_TIMEOUT_MS })) ?? undefined;
      assert.ok(alertId, 'an alert row with an acknowledge button');
      await row.first().locator('[data-testid=alert-ack]').click();
      await confirmDialog(page);
      await waitFor(
        async () =>
          (
            await browserGet<{ alert: AlertView }>(
              page,
              `/api/v1/alerts/${encodeURIComponent(alertId ?? '')}`,
            )
          ).alert.state === 'acknowledged',
        { what: `alert ${alertId} acknowledged in the API` },
      );
    }));

  it('(g) a viewer sees no operation buttons and the API refuses its operations', () =>
    scenario('g-viewer', async () => {
      await go(page, '/');
      await page.getByRole('button', { name: /log out/i }).click();
      await loginThroughForm(page, VIEWER.name, VIEWER.password);
      // Each page is checked once its content (not just the layout) has rendered.
      const pages: Array<[route: string, ready: string, hidden: string]> = [
        ['/rollouts', '[data-testid=rollout-table]', 'new-rollout'],
        ['/alerts', '[data-testid=alert-table]', 'alert-ack'],
        ['/jobs', 'main h1', 'new-job'],
      ];
      if (rolloutId !== undefined)
        pages.push([`/rollouts/${rolloutId}`, '[data-testid=rollout-status]', 'rollout-pause']);
      if (deviceId !== undefined)
        pages.push([`/devices/${deviceId}`, '[data-testid=device-id]', 'device-reboot']);
      for (const [route, ready, hidden] of pages) {
        await go(page, route);
        await page.locator(ready).first().waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(
          await page.locator(`[data-testid=${hidden}]`).count(),
          0,
          `${hidden} hidden on ${route}`,
        );
        await tab.screenshot(
          `g-viewer-${route.split('/')[1] ?? 'page'}${route.split('/').length > 2 ? '-one' : ''}`,
        );
      }
      const refusals: Array<[path: string, permission: string]> = [
        [`/api/v1/rollouts/${encodeURIComponent(rolloutId ?? 'none')}/pause`, 'rollouts:write'],
        [`/api/v1/alerts/${encodeURIComponent(alertId ?? 'none')}/acknowledge`, 'alerts:write'],
      ];
      for (const [path, permission] of refusals) {
        const response = await page.request.post(path, { data: {} });
        assert.equal(response.status(), 403, `POST ${path} as viewer`);
        const { error } = (await response.json()) as { error: { message: string } };
        assert.match(error.message, new RegExp(permission), `the refusal names ${permission}`);
      }
    }));

  it('logs no errors in the browser but the expected 401/403 responses', () => {
    assert.deepEqual(tab.unexpectedErrors(), []);
  });
});
