/**
 * A real Flotilla server for end-to-end tests: free ports, a temporary data directory, SQLite,
 * silent logs. Restartable on the same ports and data directory.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startServer, type RunningServer, type ServerDeps } from '../../src/server.ts';
import { freePort } from './wait.ts';

export interface ServerFixture {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  server(): RunningServer;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
  /** Stops the server and removes the data directory. */
  close(): Promise<void>;
  api<T>(path: string): Promise<{ status: number; body: T }>;
  /** Any management API call: a Buffer body is sent as an octet stream, anything else as JSON. */
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Uploads `image` and publishes it as `model@version` (every revision); throws unless both succeed. */
  publishRelease(model: string, version: string, image: Buffer): Promise<void>;
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
    async request(method, path, body) {
      const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : Buffer.isBuffer(body)
            ? { headers: { 'content-type': 'application/octet-stream' }, body }
            : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async publishRelease(model, version, image) {
      const uploaded = await fixture.request('PUT', '/api/v1/firmware/artifacts', image);
      if (uploaded.status !== 201) throw new Error(`upload failed: ${JSON.stringify(uploaded.body)}`);
      const sha256 = createHash('sha256').update(image).digest('hex');
      const published = await fixture.request('POST', '/api/v1/firmware/releases', {
        version,
        hardwareModel: model,
        sha256,
      });
      if (published.status !== 201) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
    },
    async api<T>(path: string) {
      const response = await fetch(`http://127.0.0.1:${httpPort}${path}`);
      return { status: response.status, body: (await response.json()) as T };
    },
  };
  await fixture.start();
  return fixture;
}
