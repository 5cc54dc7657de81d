/**
 * A real Flotilla server run as a child process (`flotilla server --config <file>`), for tests
 * that kill it: free ports, a temporary data directory, SQLite. `kill()` sends SIGKILL, so
 * nothing is flushed or closed, as in a crash or power cut; `start()` runs it again on the same
 * ports and data directory. Children still running when the test process exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { managementApi, type ManagementApi } from './management-api.ts';
import { freePort, waitFor } from './wait.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));
/** Output kept per run for the error message of a server that does not come up, in characters. */
const KEPT_OUTPUT_CHARS = 20_000;

const living = new Set<ChildProcess>();
const killLiving = (): void => {
  for (const child of living) child.kill('SIGKILL');
};
process.on('exit', killLiving);
// A test runner stopping this process (timeout, Ctrl+C) skips 'exit': kill, then die of the signal.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killLiving();
    process.kill(process.pid, signal);
  });

export interface ServerProcess extends ManagementApi {
  /** The server's data directory (SQLite file, CA, artifacts). */
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  /** `mqtts://127.0.0.1:port`, for simulated devices. */
  mqttUrl: string;
  /** `https://localhost:port` of the device API. */
  deviceHttpUrl: string;
  /** Starts the server and resolves once its management API answers. Throws if already running. */
  start(): Promise<void>;
  /** SIGKILL, then resolves once the process is gone. No-op when not running. */
  kill(): Promise<void>;
  /** Kills the server and removes its directory. */
  close(): Promise<void>;
  /** stdout and stderr of the current (or last) run, truncated to the last few KB. */
  output(): string;
}

/**
 * Writes a config file (ports, data dir, `overrides` merged at the top level, e.g.
 * `{ rollouts: { tickIntervalS: 0.2 } }`) and starts the server. Log level: env
 * FLOTILLA_TEST_LOG_LEVEL, default `warn`.
 */
export async function startServerProcess(overrides: Record<string, unknown> = {}): Promise<ServerProcess> {
  const root = await mkdtemp(join(tmpdir(), 'flotilla-proc-'));
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const deviceHttpPort = await freePort();
  const configFile = join(root, 'server.json');
  const config = {
    dataDir,
    http: { host: '127.0.0.1', port: httpPort },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    deviceHttp: { host: '127.0.0.1', port: deviceHttpPort },
    log: { level: process.env['FLOTILLA_TEST_LOG_LEVEL'] ?? 'warn' },
    presence: { flushIntervalMs: 50 },
    // Access control is tested in test/access; elsewhere every request acts as `api`.
    auth: { enabled: false },
    // Built on the first request instead: most tests never open the dashboard.
    dashboard: { prepareAtStart: false },
    ...overrides,
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
  };

  const api = managementApi(httpPort);
  const server: ServerProcess = {
    ...api,
    dataDir,
    httpPort,
    mqttPort,
    mqttUrl: `mqtts://127.0.0.1:${mqttPort}`,
    deviceHttpUrl: `https://localhost:${deviceHttpPort}`,
    async start() {
      if (child) throw new Error('the server process is already running');
      output = '';
      // Only the variables it needs: a FLOTILLA_* variable of the caller would override the file.
      const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir() };
      const started = spawn(process.execPath, [BIN, 'server', '--config', configFile], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      living.add(started);
      started.stdout.on('data', keep);
      started.stderr.on('data', keep);
      let gone = false;
      exited = new Promise<void>((resolve) =>
        started.once('exit', () => {
          gone = true;
          living.delete(started);
          if (child === started) child = undefined;
          resolve();
        }),
      );
      await waitFor(
        async () => {
          if (gone) throw new Error(`the server exited while starting:\n${output}`);
          return fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
            (res) => res.ok,
            () => false,
          );
        },
        { timeoutMs: 180_000, intervalMs: 50, what: 'the server process to answer' },
      );
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async close() {
      await server.kill();
      await rm(root, { recursive: true, force: true });
    },
    output: () => output,
  };
  await server.start();
  return server;
}
