/**
 * Firmware download throughput: the same file from Flotilla's device HTTPS API
 * (`GET /device/v1/artifacts/{sha256}`, device client certificate) and from Debian nginx (same
 * server certificate, client certificates required from the same CA), in the same run, fetched by
 * the same client: N concurrent `curl` processes each downloading the whole file.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureFleetPki } from '../src/pki/fleet-pki.ts';
import { issueDeviceCert } from '../src/pki/x509.ts';
import { NGINX, startFlotilla, startNginx, type MeasuredProcess } from './processes.ts';

const run = promisify(execFile);

export type DownloadServer = 'flotilla' | 'nginx';

export interface DownloadResult {
  server: DownloadServer;
  clients: number;
  downloads: number;
  /** Downloads that did not return 200 with the whole file. */
  failed: number;
  fileBytes: number;
  wallMs: number;
  /** Per-download time (curl's time_total: connect, TLS handshake, transfer), in ms. */
  p50Ms: number;
  p99Ms: number;
  serverCpuMs: number;
}

export interface DownloadBenchOptions {
  fileMiB: number;
  /** Concurrency levels, e.g. [1, 8, 32]. */
  clients: number[];
}

export interface DownloadBench {
  nginxVersion: string;
  results: DownloadResult[];
  date: Date;
}

interface ClientTls {
  chain: string;
  cert: string;
  key: string;
}

/** Downloads per client at a level: at least 4 downloads in all, so p50 is not one sample. */
function repeatsFor(clients: number): number {
  return Math.max(1, Math.ceil(4 / clients));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function curlOnce(
  url: string,
  port: number,
  tls: ClientTls,
): Promise<{ ok: boolean; ms: number; bytes: number }> {
  const { stdout } = await run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    '--cacert',
    tls.chain,
    '--cert',
    tls.cert,
    '--key',
    tls.key,
    '-w',
    '%{http_code} %{size_download} %{time_total}',
    url,
  ]);
  const [code = '', size = '0', seconds = '0'] = stdout.trim().split(' ');
  return { ok: code === '200', ms: Number(seconds) * 1000, bytes: Number(size) };
}

async function measureLevel(
  server: DownloadServer,
  serverProcess: MeasuredProcess,
  target: { url: string; port: number; fileBytes: number },
  tls: ClientTls,
  clients: number,
): Promise<DownloadResult> {
  const repeats = repeatsFor(clients);
  const cpuBefore = await serverProcess.cpuMs();
  const started = performance.now();
  const samples = await Promise.all(
    Array.from({ length: clients }, async () => {
      const mine: Array<{ ok: boolean; ms: number; bytes: number }> = [];
      for (let i = 0; i < repeats; i++) mine.push(await curlOnce(target.url, target.port, tls));
      return mine;
    }),
  );
  const wallMs = performance.now() - started;
  const serverCpuMs = (await serverProcess.cpuMs()) - cpuBefore;
  const all = samples.flat();
  const times = all.map((s) => s.ms).sort((a, b) => a - b);
  return {
    server,
    clients,
    downloads: all.length,
    failed: all.filter((s) => !s.ok || s.bytes !== target.fileBytes).length,
    fileBytes: target.fileBytes,
    wallMs,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    serverCpuMs,
  };
}

async function measureServer(
  server: DownloadServer,
  serverProcess: MeasuredProcess,
  target: { url: string; port: number; fileBytes: number },
  tls: ClientTls,
  levels: number[],
): Promise<DownloadResult[]> {
  // One warm-up download: page cache, JIT, TLS session setup paths.
  await curlOnce(target.url, target.port, tls);
  const results: DownloadResult[] = [];
  for (const clients of levels) {
    process.stderr.write(`downloads: ${server}, ${clients} concurrent\n`);
    results.push(await measureLevel(server, serverProcess, target, tls, clients));
  }
  return results;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** A random file of `mib` MiB in `dir`, reused across runs. */
async function firmwareFile(dir: string, mib: number): Promise<string> {
  const file = join(dir, `firmware-${mib}MiB.bin`);
  if (!(await exists(file)) || (await stat(file)).size !== mib * 1024 * 1024) {
    await writeFile(file, randomBytes(mib * 1024 * 1024));
  }
  return file;
}

async function nginxVersion(): Promise<string> {
  const { stderr } = await run(NGINX, ['-v']);
  return stderr.trim().replace(/^nginx version: /, '');
}

/** Runs the comparison in `dir`; undefined (with a message) when nginx is not installed. */
export async function measureDownloads(
  dir: string,
  options: DownloadBenchOptions,
): Promise<DownloadBench | undefined> {
  if (!(await exists(NGINX))) {
    process.stderr.write(
      `skipping the firmware download benchmark: ${NGINX} not found (Debian package nginx-light)\n`,
    );
    return undefined;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = await ensureFleetPki(dir, ['localhost'], Date.now());
  const device = await issueDeviceCert(
    pki.issuingCa,
    { deviceId: 'bench-dl', serial: 'SN-BENCH-DL', validityDays: 1 },
    Date.now(),
  );
  const tls: ClientTls = {
    chain: pki.paths.chain,
    cert: join(dir, 'client.pem'),
    key: join(dir, 'client.key'),
  };
  await writeFile(tls.cert, device.certPem);
  await writeFile(tls.key, device.keyPem, { mode: 0o600 });
  const file = await firmwareFile(dir, options.fileMiB);
  const image = await readFile(file);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const fileBytes = image.length;
  const path = `/device/v1/artifacts/${sha256}`;
  const results: DownloadResult[] = [];

  const flotilla = await startFlotilla(dir);
  try {
    const upload = await fetch(`http://127.0.0.1:${flotilla.httpPort}/api/v1/firmware/artifacts`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: flotilla.authorization },
      body: image,
    });
    if (!upload.ok) throw new Error(`upload to Flotilla failed: ${upload.status}`);
    const port = flotilla.deviceHttpPort;
    const target = { url: `https://localhost:${port}${path}`, port, fileBytes };
    results.push(...(await measureServer('flotilla', flotilla, target, tls, options.clients)));
  } finally {
    await flotilla.stop();
  }

  // nginx serves the same bytes at the same path (a hard link, so no copy).
  const root = join(dir, 'nginx-root');
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'device', 'v1', 'artifacts'), { recursive: true });
  await link(file, join(root, path));
  const nginx = await startNginx(dir, pki.paths, root);
  try {
    const target = { url: `https://localhost:${nginx.port}${path}`, port: nginx.port, fileBytes };
    results.push(...(await measureServer('nginx', nginx, target, tls, options.clients)));
  } finally {
    await nginx.stop();
  }
  return { nginxVersion: await nginxVersion(), results, date: new Date() };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const SERVER_LABEL: Record<DownloadServer, string> = {
  flotilla: 'Flotilla (device HTTPS API)',
  nginx: 'nginx (static file)',
};

export const DOWNLOAD_SECTION_HEADING = '## Firmware downloads';

/** Markdown section for docs/benchmarks.md. */
export function renderDownloadSection(bench: DownloadBench): string {
  const mib = (bench.results[0]?.fileBytes ?? 0) / 1024 / 1024;
  const rows = bench.results.map((r) => {
    const bytes = r.fileBytes * r.downloads;
    return `| ${SERVER_LABEL[r.server]} | ${r.clients} | ${r.downloads} | ${fmt(bytes / 1e6 / (r.wallMs / 1000))} | ${fmt(r.p50Ms / 1000, 2)} | ${fmt(r.p99Ms / 1000, 2)} | ${fmt(r.serverCpuMs / 1000, 2)} | ${fmt(r.serverCpuMs / 1000 / (bytes / 2 ** 30), 2)} | ${r.failed} |`;
  });
  return `${DOWNLOAD_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only downloads\` rewrites only this section).
One ${fmt(mib)} MiB random image, fetched whole by N concurrent \`curl\` processes (TLS with a device client
certificate, output to /dev/null) from each server in turn, on the same machine:

- **Flotilla**: \`GET /device/v1/artifacts/{sha256}\` on \`flotilla server\` (its own process; artifact store,
  client-certificate check, no bandwidth limit).
- **nginx** ${bench.nginxVersion} (baseline): the same file as a static file, the same server certificate,
  \`ssl_verify_client on\` with the same CA chain, \`sendfile on\`, one worker process.

MB/s is all bytes served divided by the wall time of the level; latency is curl's \`time_total\` per download
(connect, handshake, transfer); server CPU is user + system time of the server process (nginx: master and worker)
over the level. Each client downloads the file ⌈4 / N⌉ times, so every level has at least 4 downloads.
The curl processes and the server share the machine's cores and curl decrypts every byte, so MB/s and latency
are bounded by the clients as much as by the server; server CPU per GiB served is the figure that compares the
servers.

| server | clients | downloads | MB/s | p50 (s) | p99 (s) | server CPU (s) | CPU s per GiB | failed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`;
}
