/** Child processes under measurement: the Flotilla server and the Mosquitto baseline. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort } from '../test/helpers/wait.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetPkiPaths } from '../src/pki/fleet-paths.ts';

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
): Promise<MeasuredProcess & { httpPort: number; mqttPort: number }> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
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
      String(await freePort()),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok, 'flotilla server');
  return { ...measured(child, 'flotilla'), httpPort, mqttPort };
}

/** Mosquitto with the same CA, server certificate and per-device ACL as the Flotilla gateway. */
export async function startMosquitto(
  dir: string,
  pki: FleetPkiPaths,
): Promise<MeasuredProcess & { port: number }> {
  const port = await freePort();
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
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createServer();
        socket.once('error', () => resolve(true));
        socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
      }),
    'mosquitto listening',
  );
  return { ...measured(child, 'mosquitto'), port };
}
