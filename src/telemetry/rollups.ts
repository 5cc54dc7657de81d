/**
 * Rollups of raw windows into hourly and daily buckets, per device and per fleet group. Pure: the
 * stores call it inside their write transaction and upsert the merged increments. Aggregates are
 * mergeable (min, max, sum, count, last with its time), so a bucket written by many transactions
 * equals the aggregate of all its windows. A window belongs to the bucket holding its start.
 */
import type {
  LatestValue,
  MetricKind,
  RollupResolution,
  RollupScope,
  WindowRow,
} from '../store/telemetry-types.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const rollupResolutions: readonly RollupResolution[] = ['hour', 'day'];

/** Start of the UTC hour or day holding `ms`. */
export function bucketStart(resolution: RollupResolution, ms: number): number {
  const size = resolution === 'hour' ? HOUR_MS : DAY_MS;
  return Math.floor(ms / size) * size;
}

export function bucketSizeMs(resolution: RollupResolution): number {
  return resolution === 'hour' ? HOUR_MS : DAY_MS;
}

/** One increment of one rollup row. */
export interface RollupDelta {
  scope: RollupScope;
  /** Device id, model, firmware version; '' for the fleet. */
  scopeKey: string;
  resolution: RollupResolution;
  bucketStartMs: number;
  metric: string;
  kind: MetricKind;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  lastAtMs: number;
}

/** The registry's grouping of a device when its batch is written (null when unknown). */
export interface DeviceGroups {
  model: string | null;
  firmware: string | null;
}

export interface DeviceWindows {
  deviceId: string;
  windows: readonly WindowRow[];
}

function scopesOf(deviceId: string, groups: DeviceGroups | undefined): Array<[RollupScope, string]> {
  const scopes: Array<[RollupScope, string]> = [
    ['device', deviceId],
    ['fleet', ''],
  ];
  if (groups?.model) scopes.push(['model', groups.model]);
  if (groups?.firmware) scopes.push(['firmware', groups.firmware]);
  return scopes;
}

function merge(into: RollupDelta, w: WindowRow): void {
  into.min = Math.min(into.min, w.min);
  into.max = Math.max(into.max, w.max);
  into.sum += w.avg * w.count;
  into.count += w.count;
  if (w.endMs >= into.lastAtMs) {
    into.last = w.last;
    into.lastAtMs = w.endMs;
  }
}

/**
 * The rollup increments of the windows, merged so each (scope, key, resolution, bucket, metric)
 * appears once, sorted by key (upserts in one order everywhere avoid deadlocks between writers).
 */
export function rollupDeltas(
  batches: readonly DeviceWindows[],
  groupsOf: ReadonlyMap<string, DeviceGroups>,
): RollupDelta[] {
  const deltas = new Map<string, RollupDelta>();
  for (const { deviceId, windows } of batches) {
    const scopes = scopesOf(deviceId, groupsOf.get(deviceId));
    for (const w of windows) {
      for (const resolution of rollupResolutions) {
        const bucketStartMs = bucketStart(resolution, w.startMs);
        for (const [scope, scopeKey] of scopes) {
          const key = `${scope}\u0000${scopeKey}\u0000${resolution}\u0000${bucketStartMs}\u0000${w.metric}`;
          const existing = deltas.get(key);
          if (existing) merge(existing, w);
          else
            deltas.set(key, {
              scope,
              scopeKey,
              resolution,
              bucketStartMs,
              metric: w.metric,
              kind: w.kind,
              min: w.min,
              max: w.max,
              sum: w.avg * w.count,
              count: w.count,
              last: w.last,
              lastAtMs: w.endMs,
            });
        }
      }
    }
  }
  return [...deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, delta]) => delta);
}

/** The newest value per (device, metric) among the windows: the last sample of the latest-ending window. */
export function latestValues(batches: readonly DeviceWindows[]): LatestValue[] {
  const latest = new Map<string, LatestValue>();
  for (const { deviceId, windows } of batches) {
    for (const w of windows) {
      const key = `${deviceId}\u0000${w.metric}`;
      const existing = latest.get(key);
      if (!existing || w.endMs > existing.atMs)
        latest.set(key, { deviceId, metric: w.metric, kind: w.kind, atMs: w.endMs, value: w.last });
    }
  }
  return [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
}

/** UTC days [start, start + DAY_MS) holding any of the times: the partitions a write needs. */
export function daysOf(times: Iterable<number>): number[] {
  const days = new Set<number>();
  for (const ms of times) days.add(bucketStart('day', ms));
  return [...days].sort((a, b) => a - b);
}
