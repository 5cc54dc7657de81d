/** Child processes under measurement: the Flotilla server and the Mosquitto and nginx baselines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort } from '../test/helpers/wait.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetPkiPaths } from '../src/pki/fleet-paths.ts';
import { adminAuthorization } from './bench-auth.ts';

export { freePort };

export interface MeasuredProcess {
  pid: number;
  /** Resident set size now, in bytes (VmRSS from /proc). */
  rssBytes(): Promise<number>;
  /** User + system CPU time used so far, in ms (from /proc/<pid>/stat). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat on Linux (USER_HZ). */
const USER_HZ = 100;

async function readCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** Direct children of `pid` (Linux /proc/<pid>/task/<tid>/children). */
async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const lists = await Promise.all(
    tasks.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
}

/** CPU of a process and its children (nginx: the master and its workers), in ms. */
async function readTreeCpuMs(pid: number): Promise<number> {
  const children = await childPids(pid);
  const times = await Promise.all([pid, ...children].map((p) => readCpuMs(p).catch(() => 0)));
  return times.reduce((a, b) => a + b, 0);
}

function measured(child: ChildProcess, name: string): MeasuredProcess {
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  return {
    pid,
    rssBytes: () => readRss(pid),
    cpuMs: () => readCpuMs(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** `flotilla server` in its own process, so its memory is measured alone. */
export async function startFlotilla(
  dataDir: string,
  /** Extra `flotilla server` flags (e.g. `--store postgres`) and environment (e.g. the schema). */
  extra: { args?: string[]; env?: Record<string, string> } = {},
): Promise<
  MeasuredProcess & {
    httpPort: number;
    mqttPort: number;
    deviceHttpPort: number;
    /** `Authorization` header value for the management API (the first admin's token). */
    authorization: string;
  }
> {
  const [httpPort, mqttPort, deviceHttpPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      'server',
      '--data-dir',
      dataDir,
      '--http-port',
      String(httpPort),
      '--mqtt-port',
      String(mqttPort),
      '--device-http-port',
      String(deviceHttpPort),
      '--log-level',
      'warn',
      ...(extra.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...extra.env } },
  );
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok, 'flotilla server');
  const authorization = await adminAuthorization(httpPort, dataDir);
  return { ...measured(child, 'flotilla'), httpPort, mqttPort, deviceHttpPort, authorization };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (the port is taken). */
function listening(port: number): () => Promise<boolean> {
  return () =>
    new Promise<boolean>((resolve) => {
      const socket = createServer();
      socket.once('error', () => resolve(true));
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
    });
}

export const NGINX = '/usr/sbin/nginx';

/**
 * nginx in the foreground serving `root` over TLS with the same server certificate, requiring a
 * client certificate from the same CA, with one worker (Flotilla is one Node.js process).
 */
export async function startNginx(
  dir: string,
  pki: FleetPkiPaths,
  root: string,
): Promise<MeasuredProcess & { port: number }> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await mkdir(join(dir, 'nginx-temp'), { recursive: true });
  await writeFile(
    conf,
    [
      'user root;',
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr error;',
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      `  client_body_temp_path ${join(dir, 'nginx-temp')};`,
      `  proxy_temp_path ${join(dir, 'nginx-temp')};`,
      `  fastcgi_temp_path ${join(dir, 'nginx-temp')};`,
      `  uwsgi_temp_path ${join(dir, 'nginx-temp')};`,
      `  scgi_temp_path ${join(dir, 'nginx-temp')};`,
      '  server {',
      `    listen 127.0.0.1:${port} ssl;`,
      `    ssl_certificate ${pki.serverCert};`,
      `    ssl_certificate_key ${pki.serverKey};`,
      `    ssl_client_certificate ${pki.chain};`,
      '    ssl_verify_client on;',
      '    ssl_verify_depth 2;',
      `    root ${root};`,
      '    default_type application/octet-stream;',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitUntil(listening(port), 'nginx listening');
  return { ...measured(child, 'nginx'), cpuMs: () => readTreeCpuMs(child.pid ?? 0), port };
}

/**
 * Mosquitto with the same CA, server certificate and per-device ACL as the Flotilla gateway. With
 * `plainListener`, also an anonymous plain listener on 127.0.0.1 (`plainPort`) that may publish and
 * subscribe anywhere: the stand-in for a server in baselines.
 */
export async function startMosquitto(
  dir: string,
  pki: FleetPkiPaths,
  options: { plainListener?: boolean } = {},
): Promise<MeasuredProcess & { port: number; plainPort?: number }> {
  const port = await freePort();
  const plainPort = options.plainListener ? await freePort() : undefined;
  const acl = join(dir, 'mosquitto.acl');
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(acl, 'pattern readwrite fl/d/%u/#\n');
  await writeFile(
    conf,
    [
      'user root',
      'log_dest none',
      'per_listener_settings true',
      `listener ${port} 127.0.0.1`,
      `cafile ${pki.chain}`,
      `certfile ${pki.serverCert}`,
      `keyfile ${pki.serverKey}`,
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${acl}`,
      'max_connections -1',
      // The stand-in server receives a message per device and more: no cap on its queue.
      ...(plainPort !== undefined
        ? ['max_queued_messages 0', `listener ${plainPort} 127.0.0.1`, 'allow_anonymous true']
        : []),
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitUntil(listening(port), 'mosquitto listening');
  if (plainPort !== undefined) await waitUntil(listening(plainPort), 'mosquitto plain listener');
  return { ...measured(child, 'mosquitto'), port, ...(plainPort !== undefined ? { plainPort } : {}) };
}
