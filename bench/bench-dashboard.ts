/**
 * Dashboard first load at 100,000 devices (issue 9: "first load < 1 s on localhost"): a real
 * server process with access control on and a registry seeded by SQL (bench/fleet-seed.ts), and
 * Debian chromium (test/helpers/browser.ts). A run signs in through the API (session cookie put
 * into a new browser context, so only the dashboard's own load is timed) and measures, in the page,
 * from navigation start until the overview's `[data-testid=stat-total]` shows a number:
 * - cold: the first load right after the server started (the bundle is built in the background at start);
 * - warm: a new browser context (empty cache) once the bundle is built.
 * Baseline in the same run and browser: a static page of the same bytes (the bundle's CSS and JS as
 * inert text, gzip on) from nginx, ending in the same element, i.e. transfer and parse with no script
 * work and no API. Also the API answers the overview needs at this size and the bundle's size.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchChromium, openTestPage } from '../test/helpers/browser.ts';
import { seedSqliteFleet } from './fleet-seed.ts';
import { freePort, NGINX, startFlotilla, waitUntil } from './processes.ts';

export interface DashboardBenchOptions {
  devices: number;
  /** Warm loads per server, API calls per endpoint. */
  runs: number;
  /** Cold loads: one per server start. */
  coldRuns: number;
}

export interface LoadTimes {
  runs: number[];
  medianMs: number;
}

export interface DashboardBench {
  date: Date;
  loadAverage: number;
  options: DashboardBenchOptions;
  seedMs: number;
  cold: LoadTimes;
  warm: LoadTimes;
  staticBaseline: LoadTimes;
  api: Array<{ path: string; bytes: number } & LoadTimes>;
  bundle: Array<{ name: string; rawBytes: number; gzipBytes: number }>;
}

const STAT_TOTAL = '[data-testid=stat-total] .stat-value';

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const times = (runs: number[]): LoadTimes => ({ runs, medianMs: median(runs) });

/** A session cookie of the first admin (`name=value`). */
async function adminCookie(base: string, dataDir: string): Promise<{ name: string; value: string }> {
  const password = (await readFile(join(dataDir, 'initial-admin-password'), 'utf8')).trim();
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!login.ok) throw new Error(`bench: admin login failed: ${login.status}`);
  const pair = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
}

/**
 * Milliseconds from navigation start until `selector` shows a digit, measured in the page
 * (`performance.now()` at the first animation frame that sees it).
 */
async function firstLoadMs(
  browser: Browser,
  url: string,
  selector: string,
  cookie?: { name: string; value: string },
): Promise<number> {
  const tab = await openTestPage(browser);
  try {
    if (cookie !== undefined) await tab.context.addCookies([{ ...cookie, url }]);
    await tab.page.goto(url, { waitUntil: 'commit' });
    const shown = await tab.page
      .waitForFunction(
        `(() => { const el = document.querySelector(${JSON.stringify(selector)});
        return el !== null && /\\d/.test(el.textContent ?? '') ? performance.now() : false; })()`,
        undefined,
        { polling: 'raf', timeout: 60_000 },
      )
      .catch((err: unknown) => {
        throw new Error(
          `bench: ${url} showed no number in ${selector} within 60 s: ${(err as Error).message}`,
        );
      });
    return Number(await shown.jsonValue());
  } finally {
    await tab.close();
  }
}

/** Bytes on the wire of a GET, with and without gzip (node:http, so nothing is decoded for us). */
function wireBytes(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function timeApi(base: string, path: string, authorization: string, runs: number) {
  const measured: number[] = [];
  let bytes = 0;
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { headers: { authorization } });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`bench: GET ${path} answered ${response.status}`);
    // The first call warms the statement cache, as a dashboard's previous load would have.
    if (i > 0) measured.push(performance.now() - started);
    bytes = body.byteLength;
  }
  return { path, bytes, ...times(measured) };
}

/** nginx on a plain HTTP port, gzip on, serving `root` (the static baseline). */
async function startStaticNginx(dir: string, root: string): Promise<{ port: number; stop(): Promise<void> }> {
  if (!existsSync(NGINX))
    throw new Error(`bench: ${NGINX} is missing (the static baseline): apt-get install -y nginx-light`);
  const port = await freePort();
  const temp = join(dir, 'nginx-temp');
  await mkdir(temp, { recursive: true });
  const conf = join(dir, 'nginx-static.conf');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${temp};`);
  await writeFile(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx-static.pid')};`,
      'error_log stderr error;',
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      '  log_not_found off;',
      '  include /etc/nginx/mime.types;',
      '  gzip on;',
      '  gzip_comp_level 9;',
      ...temps,
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/`)).status < 500, 'nginx (static)');
  return {
    port,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The shell, the CSS and the JS of the dashboard as one inert page of the same bytes. */
function staticPage(shell: string, css: string, js: string, total: string): string {
  const inert = js.replaceAll('</script', '<\\/script');
  return `${shell.replace(/<script[^>]*><\/script>|<link[^>]*>/g, '')}
<style>${css}</style>
<script type="text/plain">${inert}</script>
<div data-testid="stat-total"><div class="stat-value">${total}</div></div>
`;
}

export async function measureDashboard(dir: string, options: DashboardBenchOptions): Promise<DashboardBench> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const seeded = await seedSqliteFleet(join(dir, 'flotilla.db'), options.devices, Date.now());
  const seedMs = seeded.seedMs;
  await seeded.close();
  const browser = await launchChromium();
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    let api: DashboardBench['api'] = [];
    let bundle: DashboardBench['bundle'] = [];
    let page = { shell: '', css: '', js: '' };
    for (let start = 0; start < options.coldRuns; start++) {
      const server = await startFlotilla(dir);
      try {
        const base = `http://127.0.0.1:${server.httpPort}`;
        const cookie = await adminCookie(base, dir);
        const url = `${base}/#/`;
        cold.push(await firstLoadMs(browser, url, STAT_TOTAL, cookie));
        if (start > 0) continue;
        for (let i = 0; i < options.runs; i++) warm.push(await firstLoadMs(browser, url, STAT_TOTAL, cookie));
        const overview =
          (await fetch(`${base}/api/v1/dashboard/overview`, {
            headers: { authorization: server.authorization },
          }).then((r) => r.status)) === 200;
        api = [
          await timeApi(
            base,
            overview ? '/api/v1/dashboard/overview' : '/api/v1/fleet/summary',
            server.authorization,
            options.runs,
          ),
          await timeApi(base, '/api/v1/devices?limit=50', server.authorization, options.runs),
        ];
        page = {
          shell: await (await fetch(`${base}/`)).text(),
          css: await (await fetch(`${base}/app.css`)).text(),
          js: await (await fetch(`${base}/app.js`)).text(),
        };
        bundle = [];
        for (const name of ['app.js', 'app.css'])
          bundle.push({
            name,
            rawBytes: await wireBytes(`${base}/${name}`, {}),
            gzipBytes: await wireBytes(`${base}/${name}`, { 'accept-encoding': 'gzip' }),
          });
      } finally {
        await server.stop();
      }
    }

    const root = join(dir, 'static');
    await mkdir(root, { recursive: true });
    const total = options.devices.toLocaleString('en-US');
    const html = staticPage(page.shell, page.css, page.js, total);
    await writeFile(join(root, 'index.html'), html);
    bundle.push({
      name: 'static baseline page',
      rawBytes: Buffer.byteLength(html),
      gzipBytes: gzipSync(html, { level: 9 }).length,
    });
    const nginx = await startStaticNginx(dir, root);
    const staticRuns: number[] = [];
    try {
      for (let i = 0; i < options.runs; i++)
        staticRuns.push(await firstLoadMs(browser, `http://127.0.0.1:${nginx.port}/`, STAT_TOTAL));
    } finally {
      await nginx.stop();
    }
    return {
      date: new Date(),
      loadAverage: loadavg()[0] ?? 0,
      options,
      seedMs,
      cold: times(cold),
      warm: times(warm),
      staticBaseline: times(staticRuns),
      api,
      bundle,
    };
  } finally {
    await browser.close();
  }
}
