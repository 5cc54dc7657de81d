/**
 * Builds the retention tiers from config (the composition root calls this): the retention job
 * (started when `telemetry.archive.enabled`), the Parquet archive reader, and the tiered store the
 * query API reads through. See docs/telemetry.md, "Retention & archive".
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TelemetryConfig } from '../../config/schema.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { TelemetryRetentionStore } from '../../store/telemetry-retention-types.ts';
import type { TelemetryStore } from '../../store/telemetry-types.ts';
import type { DeviceStore } from '../../store/types.ts';
import { ParquetArchiveReader } from './archive-reader.ts';
import { createRetentionMetrics } from './retention-metrics.ts';
import { RetentionJob } from './retention-job.ts';
import { groupMembers, tieredTelemetryStore } from './tiered-telemetry-store.ts';

export interface TelemetryRetentionDeps {
  telemetry: TelemetryStore;
  retention: TelemetryRetentionStore;
  devices: Pick<DeviceStore, 'listDevices'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metricsRegistry: Registry;
  dataDir: string;
}

export interface TelemetryRetention {
  /** Hot, warm and cold tiers behind the TelemetryStore interface: give this to the query API. */
  queryStore: TelemetryStore;
  job: RetentionJob;
  stop(): Promise<void>;
}

/** `<dataDir>/archive/telemetry`. */
export function archiveRoot(dataDir: string): string {
  return join(dataDir, 'archive', 'telemetry');
}

export function createTelemetryRetention(
  deps: TelemetryRetentionDeps,
  config: TelemetryConfig,
): TelemetryRetention {
  const root = archiveRoot(deps.dataDir);
  const job = new RetentionJob(
    {
      store: deps.retention,
      clock: deps.clock,
      timers: deps.timers,
      logger: deps.logger,
      metrics: createRetentionMetrics(deps.metricsRegistry),
      archiveRoot: root,
    },
    { retentionDays: config.retentionDays, ...config.archive },
  );
  if (config.archive.enabled) job.start();
  const archive = new ParquetArchiveReader({ catalog: deps.retention, archiveRoot: root });
  return {
    queryStore: tieredTelemetryStore({
      hot: deps.telemetry,
      archive,
      membersOf: groupMembers(deps.devices),
    }),
    job,
    stop: () => job.stop(),
  };
}
