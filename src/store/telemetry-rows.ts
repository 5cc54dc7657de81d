/** Row shapes of the telemetry tables and their mapping, shared by the SQLite and PostgreSQL stores. */
import type { EventSeverity, TelemetryEvent } from '../contracts/telemetry-messages.ts';
import { bucketSizeMs } from '../telemetry/rollups.ts';
import type {
  DeviceSummaries,
  LatestValue,
  MetricKind,
  RollupResolution,
  SeriesPoint,
  StoredEvent,
} from './telemetry-types.ts';

/** pg returns bigint columns as strings; SQLite as numbers. */
const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

export interface WindowPointRow {
  device_id: string;
  start_ms: number | string;
  end_ms: number | string;
  min: number;
  max: number;
  avg: number;
  count: number | string;
  last: number;
}

export function pointFromWindow(row: WindowPointRow): SeriesPoint {
  const count = num(row.count);
  const endMs = num(row.end_ms);
  return {
    deviceId: row.device_id,
    startMs: num(row.start_ms),
    endMs,
    min: row.min,
    max: row.max,
    avg: row.avg,
    sum: row.avg * count,
    count,
    last: row.last,
    lastAtMs: endMs,
  };
}

export interface RollupPointRow {
  bucket_start_ms: number | string;
  min: number;
  max: number;
  sum: number;
  count: number | string;
  last: number;
  last_at_ms: number | string;
}

export function pointFromRollup(resolution: RollupResolution, row: RollupPointRow): SeriesPoint {
  const startMs = num(row.bucket_start_ms);
  const count = num(row.count);
  return {
    deviceId: null,
    startMs,
    endMs: startMs + bucketSizeMs(resolution),
    min: row.min,
    max: row.max,
    avg: count === 0 ? 0 : row.sum / count,
    sum: row.sum,
    count,
    last: row.last,
    lastAtMs: num(row.last_at_ms),
  };
}

export interface LatestRow {
  device_id: string;
  metric: string;
  kind: string;
  at_ms: number | string;
  value: number;
}

export function latestFromRow(row: LatestRow): LatestValue {
  return {
    deviceId: row.device_id,
    metric: row.metric,
    kind: row.kind as MetricKind,
    atMs: num(row.at_ms),
    value: row.value,
  };
}

export interface EventRow {
  device_id: string;
  seq: number | string;
  at_ms: number | string;
  type: string;
  severity: string;
  code: string;
  message: string | null;
}

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    deviceId: row.device_id,
    seq: num(row.seq),
    type: row.type as TelemetryEvent['type'],
    atMs: num(row.at_ms),
    severity: row.severity as EventSeverity,
    code: row.code,
    ...(row.message !== null && { message: row.message }),
  };
}

export interface SummaryRow {
  device_id: string;
  metric: string;
  sum: number;
  count: number | string;
  covered_ms: number | string;
  min: number;
  max: number;
  first_at_ms: number | string;
  first: number;
  last_at_ms: number | string;
  last: number;
}

export function addSummaries(into: DeviceSummaries, rows: readonly SummaryRow[]): void {
  for (const row of rows) {
    let metrics = into.get(row.device_id);
    if (!metrics) {
      metrics = new Map();
      into.set(row.device_id, metrics);
    }
    metrics.set(row.metric, {
      sum: row.sum,
      count: num(row.count),
      coveredMs: num(row.covered_ms),
      min: row.min,
      max: row.max,
      firstAtMs: num(row.first_at_ms),
      first: row.first,
      lastAtMs: num(row.last_at_ms),
      last: row.last,
    });
  }
}

/**
 * The summary over raw windows, one row per (device, metric): aggregates, and the `last` samples
 * of the earliest and latest windows (ordered by end, then start). `ids` and `metrics` are the SQL
 * of two lists, `range` the condition on start_ms; both dialects accept it.
 */
export function summarySql(ranges: string, metrics: string): string {
  return `SELECT DISTINCT w.device_id AS device_id, w.metric AS metric,
      sum(w.avg * w.count) OVER p AS sum, sum(w.count) OVER p AS count,
      sum(w.end_ms - w.start_ms) OVER p AS covered_ms,
      min(w.min) OVER p AS min, max(w.max) OVER p AS max,
      first_value(w.end_ms) OVER o AS first_at_ms, first_value(w.last) OVER o AS first,
      last_value(w.end_ms) OVER o AS last_at_ms, last_value(w.last) OVER o AS last
    FROM (${ranges}) r
    JOIN telemetry_windows w
      ON w.device_id = r.device_id AND w.start_ms >= r.from_ms AND w.start_ms < r.to_ms
    WHERE w.metric IN (${metrics})
    WINDOW p AS (PARTITION BY w.device_id, w.metric),
      o AS (PARTITION BY w.device_id, w.metric ORDER BY w.end_ms, w.start_ms
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`;
}

/** Rows of (device_id, metric), ordered by device then metric, grouped per device. */
export function namesByDevice(
  into: Map<string, string[]>,
  rows: ReadonlyArray<{ device_id: string; metric: string }>,
): void {
  for (const row of rows) {
    const names = into.get(row.device_id);
    if (names) names.push(row.metric);
    else into.set(row.device_id, [row.metric]);
  }
}
