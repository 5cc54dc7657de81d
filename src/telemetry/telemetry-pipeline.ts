/**
 * Builds the ingest pipeline from config (the composition root calls this): the group-commit
 * writer, the ingest stages, and the gateway's handler. `stop()` writes what is queued; call it
 * after the transports have stopped and before the store closes.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TelemetryConfig } from '../config/schema.ts';
import type { TelemetryHandler } from '../gateway/types.ts';
import type { Clock } from '../infra/clock.ts';
import type { Timers } from '../infra/timers.ts';
import type { TelemetryStore } from '../store/telemetry-types.ts';
import { createTelemetryIngest } from './telemetry-ingest.ts';
import { createTelemetryMetrics } from './telemetry-metrics.ts';
import { TelemetryWriter } from './telemetry-writer.ts';

export interface TelemetryPipelineDeps {
  store: TelemetryStore;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metricsRegistry: Registry;
}

export interface TelemetryPipeline {
  handler: TelemetryHandler;
  stop(): Promise<void>;
}

export function createTelemetryPipeline(
  deps: TelemetryPipelineDeps,
  config: TelemetryConfig,
): TelemetryPipeline {
  const metrics = createTelemetryMetrics(deps.metricsRegistry);
  const writer = new TelemetryWriter(
    { store: deps.store, clock: deps.clock, timers: deps.timers, logger: deps.logger, metrics },
    config.writer,
  );
  const ingest = createTelemetryIngest({
    store: deps.store,
    writer,
    clock: deps.clock,
    settings: config,
    metrics,
  });
  return {
    handler: {
      ingest: (device, json) => ingest.ingest(device.deviceId, json),
      ingestUpload: (device, batches) => ingest.ingestUpload(device.deviceId, batches),
    },
    stop: () => writer.stop(),
  };
}
