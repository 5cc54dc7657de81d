/**
 * A real Flotilla server for end-to-end tests: free ports, a temporary data directory, SQLite,
 * silent logs. Restartable on the same ports and data directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startServer, type RunningServer, type ServerDeps } from '../../src/server.ts';
import { managementApi, type ManagementApi } from './management-api.ts';
import { freePort } from './wait.ts';

export interface ServerFixture extends ManagementApi {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  server(): RunningServer;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
  /** Stops the server and removes the data directory. */
  close(): Promise<void>;
}

/** `deps` replaces the server's clock and timers (e.g. fake time); the logger is always silent-by-default. */
export async function createServerFixture(
  overrides: Record<string, unknown> = {},
  deps: Omit<ServerDeps, 'logger'> = {},
): Promise<ServerFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-e2e-'));
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const config = loadServerConfig({
    env: {},
    flags: {
      dataDir,
      http: { port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      deviceHttp: { host: '127.0.0.1', port: await freePort() },
      log: { level: process.env['FLOTILLA_TEST_LOG_LEVEL'] ?? 'silent' },
      presence: { flushIntervalMs: 50 },
      // Access control is tested in test/access; elsewhere every request acts as `api`.
      auth: { enabled: false },
      // Built on the first request instead: most tests never open the dashboard.
      dashboard: { prepareAtStart: false },
      ...overrides,
    },
  });
  let running: RunningServer | undefined;
  const fixture: ServerFixture = {
    dataDir,
    httpPort,
    mqttPort,
    server() {
      if (!running) throw new Error('server not running');
      return running;
    },
    async start() {
      running = await startServer(config, { ...deps, logger: createLogger(config.log.level) });
      return running;
    },
    async stop() {
      const r = running;
      running = undefined;
      await r?.stop();
    },
    async close() {
      await fixture.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    ...managementApi(httpPort),
  };
  await fixture.start();
  return fixture;
}
