/** Row shapes of the retention queries and the archive catalog, shared by the SQLite and PostgreSQL stores. */
import type { MetricKind } from './telemetry-types.ts';
import type { ArchiveEntry, ArchiveTable, RawWindowRecord } from './telemetry-retention-types.ts';

/** pg returns bigint columns as strings; SQLite as numbers. */
const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

export interface ArchiveRow {
  source_table: string;
  kind: string;
  day_start_ms: number | string;
  path: string;
  row_count: number | string;
  bytes: number | string;
  sha256: string;
  created_at: number | string;
}

export function archiveFromRow(row: ArchiveRow): ArchiveEntry {
  return {
    table: row.source_table as ArchiveTable,
    kind: row.kind === '' ? null : (row.kind as MetricKind),
    dayStartMs: num(row.day_start_ms),
    path: row.path,
    rows: num(row.row_count),
    bytes: num(row.bytes),
    sha256: row.sha256,
    createdAtMs: num(row.created_at),
  };
}

/** The catalog columns of an entry, in the order of `archiveColumns`. */
export function archiveValues(entry: ArchiveEntry): Array<string | number> {
  return [
    entry.table,
    entry.kind ?? '',
    entry.dayStartMs,
    entry.path,
    entry.rows,
    entry.bytes,
    entry.sha256,
    entry.createdAtMs,
  ];
}

export const archiveColumns = 'source_table, kind, day_start_ms, path, row_count, bytes, sha256, created_at';

export interface RawWindowDbRow {
  device_id: string;
  metric: string;
  start_ms: number | string;
  end_ms: number | string;
  min: number;
  max: number;
  avg: number;
  count: number | string;
  last: number;
}

export function rawWindowFromRow(row: RawWindowDbRow): RawWindowRecord {
  return {
    deviceId: row.device_id,
    metric: row.metric,
    startMs: num(row.start_ms),
    endMs: num(row.end_ms),
    min: row.min,
    max: row.max,
    avg: row.avg,
    count: num(row.count),
    last: row.last,
  };
}

export const rawWindowColumns = 'device_id, metric, start_ms, end_ms, min, max, avg, count, last';
export const rawEventColumns = 'device_id, seq, at_ms, type, severity, code, message';
