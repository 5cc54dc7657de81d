/**
 * The fleet summary: online share, firmware versions and the share on the current release,
 * battery and signal distributions, and the error rate, over the whole fleet or any scope (a saved
 * group or a fleet query). Every number is a SQL aggregate (FleetMetricsStore); this module only
 * defines the buckets and windows and shapes the answer. Definitions: docs/fleet-metrics.md.
 */
import { z } from 'zod';
import type { BucketBounds, FleetMetricsStore, MetricsScope } from '../store/fleet-metrics-types.ts';

const HOUR_MS = 3_600_000;

export interface Buckets {
  /** Exclusive upper bounds, ascending; the last bucket takes the rest. */
  bounds: BucketBounds;
  /** One label per bucket (bounds.length + 1). */
  labels: readonly string[];
}

/** battery_pct buckets (%): 0–5, 5–10, 10–20, 20–50, 50–80, 80–100. */
export const batteryBuckets: Buckets = {
  bounds: [5, 10, 20, 50, 80],
  labels: ['0-5', '5-10', '10-20', '20-50', '50-80', '80-100'],
};

/** signal_dbm buckets (dBm): below −110 (none), … , −70 and above (excellent). */
export const signalBuckets: Buckets = {
  bounds: [-110, -100, -90, -80, -70],
  labels: ['lt-110', '-110..-100', '-100..-90', '-90..-80', '-80..-70', 'ge-70'],
};

/** Devices without a latest value for the metric. */
export const UNKNOWN_BUCKET = 'unknown';

/** Firmware versions listed at most; the rest are summed in `otherDevices`. */
export const MAX_FIRMWARE_VERSIONS = 100;

/**
 * The error rate's window: hourly rollups of the previous complete hour and the current one, so
 * it always covers at least the last full hour (between one and two hours of data).
 */
export const errorWindowStartMs = (nowMs: number): number => Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS;

const pct = (part: number, whole: number): number | null => (whole > 0 ? (100 * part) / whole : null);

const bucketList = z.array(z.object({ bucket: z.string(), devices: z.number().int() }));

export const fleetMetricsSummarySchema = z.object({
  /** Devices in scope and online: the original summary's fields, kept at the top for its readers. */
  total: z.number().int(),
  online: z.number().int(),
  atMs: z.number(),
  scope: z.object({ group: z.string().nullable(), where: z.string().nullable() }),
  devices: z.object({
    total: z.number().int(),
    online: z.number().int(),
    offline: z.number().int(),
    /** null without devices */
    onlinePct: z.number().nullable(),
  }),
  firmware: z.object({
    /** Most common first; `version` null: none reported. */
    versions: z.array(z.object({ version: z.string().nullable(), devices: z.number().int() })),
    /** Devices on versions past the listed ones. */
    otherDevices: z.number().int(),
    /** Devices whose model has at least one release. */
    withRelease: z.number().int(),
    /** Of those, devices running their model's newest release. */
    onCurrentRelease: z.number().int(),
    /** onCurrentRelease / withRelease in %; null when no device's model has a release. */
    currentPct: z.number().nullable(),
  }),
  battery: bucketList,
  signal: bucketList,
  errorRate: z.object({
    fromMs: z.number(),
    errors: z.number(),
    samples: z.number(),
    /** Errors per 100 samples; null without samples. */
    pct: z.number().nullable(),
  }),
});
export type FleetMetricsSummary = z.infer<typeof fleetMetricsSummarySchema>;

export interface SummaryLabels {
  group?: string;
  where?: string;
}

/** The summary of the devices in `scope`: a fixed handful of aggregate queries at any fleet size. */
export async function computeFleetSummary(
  store: FleetMetricsStore,
  scope: MetricsScope,
  labels: SummaryLabels = {},
): Promise<FleetMetricsSummary> {
  const fromMs = errorWindowStartMs(scope.nowMs);
  const [counts, versions, current, battery, signal, errors] = await Promise.all([
    store.countDevices(scope),
    store.firmwareVersions(scope, MAX_FIRMWARE_VERSIONS),
    store.currentRelease(scope),
    store.histogram(scope, 'battery_pct', batteryBuckets.bounds),
    store.histogram(scope, 'signal_dbm', signalBuckets.bounds),
    store.errorTotals(scope, fromMs),
  ]);
  const listed = versions.reduce((sum, row) => sum + row.devices, 0);
  return {
    total: counts.total,
    online: counts.online,
    atMs: scope.nowMs,
    scope: { group: labels.group ?? null, where: labels.where ?? null },
    devices: {
      total: counts.total,
      online: counts.online,
      offline: counts.total - counts.online,
      onlinePct: pct(counts.online, counts.total),
    },
    firmware: {
      versions: [...versions].sort(
        (a, b) => b.devices - a.devices || (a.version ?? '').localeCompare(b.version ?? ''),
      ),
      otherDevices: counts.total - listed,
      withRelease: current.withRelease,
      onCurrentRelease: current.onCurrent,
      currentPct: pct(current.onCurrent, current.withRelease),
    },
    battery: distribution(batteryBuckets, battery, counts.total),
    signal: distribution(signalBuckets, signal, counts.total),
    errorRate: {
      fromMs,
      errors: errors.errors,
      samples: errors.samples,
      pct: pct(errors.errors, errors.samples),
    },
  };
}

function distribution(buckets: Buckets, counts: readonly number[], total: number) {
  const known = counts.reduce((sum, count) => sum + count, 0);
  return [
    ...buckets.labels.map((bucket, index) => ({ bucket, devices: counts[index] ?? 0 })),
    { bucket: UNKNOWN_BUCKET, devices: total - known },
  ];
}
