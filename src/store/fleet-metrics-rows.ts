/** Decoding fleet-metrics answers the same way on both stores (PostgreSQL returns bigint as text). */
import type { BucketBounds, DeviceCondition, DeviceMatch, MetricsScope } from './fleet-metrics-types.ts';

export interface MatchRow {
  id: string;
  value: number | string | null;
}

/** Rows of (bucket index, devices) → a count per bucket, zeros included. */
export function bucketCounts(
  rows: ReadonlyArray<{ bucket: number | string; devices: number | string }>,
  bounds: BucketBounds,
): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const row of rows) counts[Number(row.bucket)] = Number(row.devices);
  return counts;
}

/** Offline conditions return the reference time; the match carries the offline duration instead. */
export function toDeviceMatches(
  rows: readonly MatchRow[],
  condition: DeviceCondition,
  scope: MetricsScope,
): DeviceMatch[] {
  return rows.map((row) => {
    const value = row.value === null ? null : Number(row.value);
    return {
      deviceId: row.id,
      value: condition.kind === 'offline' && value !== null ? scope.nowMs - value : value,
    };
  });
}
