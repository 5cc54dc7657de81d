/**
 * The composition root: builds every part from the config, starts them in order and stops them
 * in reverse (devices disconnected, pending writes flushed, store closed last).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerConfig } from './config/schema.ts';
import { systemClock, type Clock } from './infra/clock.ts';
import { systemTimers, type Timers } from './infra/timers.ts';
import { ensureDevPki } from './pki/dev-pki.ts';
import { openDeviceStore } from './store/open-store.ts';
import type { DeviceStore } from './store/types.ts';
import { PresenceBatcher } from './registry/presence-batcher.ts';
import { createRegistryEventHandlers } from './registry/device-events.ts';
import { createEmbeddedBroker } from './gateway/mqtt/embedded-broker.ts';
import { createGatewayMetrics } from './gateway/metrics.ts';
import { createHttpServer } from './api/http-server.ts';
import { deviceRoutes } from './api/routes/devices.ts';
import { systemRoutes } from './api/routes/system.ts';
import { createFleetMetrics } from './registry/fleet-metrics.ts';
import { FLOTILLA_VERSION } from './version.ts';

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
}

export interface RunningServer {
  httpUrl: string;
  mqttUrl: string;
  /** The fleet CA devices must trust, and the paths of the development PKI. */
  pki: Awaited<ReturnType<typeof ensureDevPki>>;
  store: DeviceStore;
  config: ServerConfig;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig, deps: ServerDeps): Promise<RunningServer> {
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const logger = deps.logger;
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const pki = await ensureDevPki(dataDir, [config.mqtt.publicHost], clock.now());
  const store = await openDeviceStore(
    config.store.kind === 'sqlite'
      ? {
          kind: 'sqlite',
          file: isAbsolute(config.store.sqliteFile)
            ? config.store.sqliteFile
            : join(dataDir, config.store.sqliteFile),
        }
      : { kind: 'postgres', url: config.store.postgresUrl ?? '', schema: config.store.postgresSchema },
  );
  const stopping: Array<() => Promise<void>> = [async () => store.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stopping.reverse()) await stop();
    stopping.length = 0;
  };

  try {
    // The embedded broker has just started, so no device is connected to it.
    const reset = await store.markAllOffline(clock.now());
    if (reset > 0) logger.info({ devices: reset }, 'marked devices offline after restart');

    const metricsRegistry = new Registry();
    collectDefaultMetrics({ register: metricsRegistry, prefix: 'flotilla_process_' });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool lint).
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      metricsRegistry.removeSingleMetric(`flotilla_process_nodejs_${name}`);
    }

    const presence = new PresenceBatcher(
      { store, timers, logger },
      { flushIntervalMs: config.presence.flushIntervalMs },
    );
    presence.start();
    const handlers = createRegistryEventHandlers({ store, presence });
    stopping.push(async () => {
      await handlers.drain();
      await presence.stop();
    });

    const gateway = await createEmbeddedBroker(
      {
        clock,
        logger: logger.child({ component: 'gateway' }),
        handlers,
        metrics: createGatewayMetrics(metricsRegistry),
      },
      {
        host: config.mqtt.host,
        port: config.mqtt.port,
        tls: { caPem: pki.ca.certPem, certPem: pki.server.certPem, keyPem: pki.server.keyPem },
      },
    );
    await gateway.start();
    stopping.push(() => gateway.stop());
    createFleetMetrics(metricsRegistry, store);

    const indexHtml = await readFile(new URL('./web/index.html', import.meta.url), 'utf8');
    const http = createHttpServer({
      logger,
      metricsRegistry,
      indexHtml,
      version: FLOTILLA_VERSION,
      routes: [
        ...systemRoutes({
          store,
          version: FLOTILLA_VERSION,
          gatewayConnected: () => gateway.connectedDevices(),
        }),
        ...deviceRoutes({ store }),
      ],
    });
    await http.listen({ host: config.http.host, port: config.http.port });
    stopping.push(() => http.close());
    const httpAddress = http.server.address();
    const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.http.port;
    const httpHost =
      config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;

    return {
      httpUrl: `http://${httpHost.includes(':') ? `[${httpHost}]` : httpHost}:${httpPort}`,
      mqttUrl: `mqtts://${config.mqtt.publicHost}:${gateway.port()}`,
      pki,
      store,
      config,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
