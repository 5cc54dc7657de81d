/**
 * Shared set-up of the retention tests: a store holding raw windows and events for days on both
 * sides of the retention boundaries, and a retention job on an injected clock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/infra/logger.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { TelemetryRetentionStore } from '../../src/store/telemetry-retention-types.ts';
import type { BatchToStore, WindowRow } from '../../src/store/telemetry-types.ts';
import { createRetentionMetrics } from '../../src/telemetry/retention/retention-metrics.ts';
import { RetentionJob } from '../../src/telemetry/retention/retention-job.ts';
import type { RetentionDays } from '../../src/telemetry/retention/retention-plan.ts';
import { archiveRoot } from '../../src/telemetry/retention/telemetry-retention.ts';
import { DAY_MS, HOUR_MS } from '../../src/telemetry/rollups.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';

/** 2026-11-27T10:00Z: "now" of the retention tests. */
export const nowMs = Date.UTC(2026, 10, 27, 10);
/** Start of the UTC day `n` days before today. */
export const daysAgo = (n: number): number => Date.UTC(2026, 10, 27 - n);

/** health raw 3 days, app raw 2, events 4: archived days are before Nov 24, Nov 25 and Nov 23. */
export const retentionDays: RetentionDays = {
  healthRaw: 3,
  appRaw: 2,
  events: 4,
  hourlyRollups: 5,
  dailyRollups: 8,
};

const window = (kind: WindowRow['kind'], metric: string, startMs: number, value: number): WindowRow => ({
  kind,
  metric,
  startMs,
  endMs: startMs + 300_000,
  min: value - 1,
  max: value + 1.5,
  avg: value + 0.25,
  count: 5,
  last: value,
});

/** Per device, per day from 7 days ago to today, two windows of each kind and one or two events. */
export function sampleBatches(deviceIds: readonly string[]): BatchToStore[] {
  const batches: BatchToStore[] = [];
  let seq = 1;
  for (const deviceId of deviceIds) {
    for (let n = 7; n >= 0; n -= 1) {
      const day = daysAgo(n);
      const v = 10 * n + deviceIds.indexOf(deviceId);
      batches.push({
        deviceId,
        seq: seq++,
        receivedAtMs: day + 2 * HOUR_MS,
        windows: [
          window('health', 'battery_pct', day + HOUR_MS, v),
          window('health', 'battery_pct', day + 7 * HOUR_MS, v + 0.5),
          window('app', 'pump.flow_lpm', day + HOUR_MS, v / 3),
          window('app', 'battery_pct', day + 9 * HOUR_MS, v + 2),
        ],
        events: [
          { type: 'boot', atMs: day + 3 * HOUR_MS, severity: 'info', code: 'power_on' },
          ...(n % 2 === 0
            ? [
                {
                  type: 'error' as const,
                  atMs: day + 5 * HOUR_MS,
                  severity: 'error' as const,
                  code: 'E_SENSOR',
                  message: `i2c ${n}`,
                },
              ]
            : []),
        ],
        accepted: 6,
        rejected: 0,
      });
    }
  }
  return batches;
}

export interface RetentionRig {
  time: FakeTime;
  dataDir: string;
  root: string;
  metricsRegistry: Registry;
  job(store?: TelemetryRetentionStore): RetentionJob;
  close(): Promise<void>;
}

export async function retentionRig(stores: Stores): Promise<RetentionRig> {
  const time = fakeTime(nowMs);
  const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-retention-'));
  const metricsRegistry = new Registry();
  const metrics = createRetentionMetrics(metricsRegistry);
  return {
    time,
    dataDir,
    root: archiveRoot(dataDir),
    metricsRegistry,
    job: (store = stores.telemetryRetention) =>
      new RetentionJob(
        {
          store,
          clock: time.clock,
          timers: time.timers,
          logger: createLogger('silent'),
          metrics,
          archiveRoot: archiveRoot(dataDir),
        },
        // Small pages and chunks so multi-page exports and chunked deletes run.
        { retentionDays, intervalS: 3600, initialDelayS: 60, pageRows: 3, deleteChunkRows: 4 },
      ),
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** A store whose `method` throws once (a crash at that step), then behaves. */
export function failingOnce(
  store: TelemetryRetentionStore,
  method: 'deleteRawDay' | 'recordArchive',
): TelemetryRetentionStore {
  let failed = false;
  const crash = (step: typeof method): Promise<never> | undefined => {
    if (step !== method || failed) return undefined;
    failed = true;
    return Promise.reject(new Error(`simulated crash in ${method}`));
  };
  return {
    rawDays: (...a) => store.rawDays(...a),
    readWindowDay: (...a) => store.readWindowDay(...a),
    readEventDay: (...a) => store.readEventDay(...a),
    recordArchive: (...a) => crash('recordArchive') ?? store.recordArchive(...a),
    listArchives: (...a) => store.listArchives(...a),
    deleteRawDay: (...a) => crash('deleteRawDay') ?? store.deleteRawDay(...a),
    dropEmptyPartitions: (...a) => store.dropEmptyPartitions(...a),
    deleteRollupsBefore: (...a) => store.deleteRollupsBefore(...a),
    deleteBatchesBefore: (...a) => store.deleteBatchesBefore(...a),
  };
}

export { DAY_MS };
