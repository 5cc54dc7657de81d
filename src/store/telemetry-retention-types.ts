/**
 * What the retention job needs from the store: the expired days of each raw source, reading one
 * day in pages (for its Parquet export), the archive catalog (`telemetry_archives`, migration 12)
 * and deleting expired rows. Implemented in sqlite/ and postgres/, one contract suite
 * (test/store/telemetry-retention-store.contract.ts). See docs/telemetry.md, "Retention & archive".
 */
import type { MetricKind, StoredEvent } from './telemetry-types.ts';

/** A raw source with its own retention: windows of one kind, or events. */
export type RawSource = { table: 'windows'; kind: MetricKind } | { table: 'events' };
export type ArchiveTable = RawSource['table'];

/** One metric of one raw window of a device, as archived (the kind is the file's partition). */
export interface RawWindowRecord {
  deviceId: string;
  metric: string;
  startMs: number;
  endMs: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  last: number;
}

/** A row of the archive catalog: one Parquet file holding one UTC day of one raw source. */
export interface ArchiveEntry {
  table: ArchiveTable;
  /** `health` or `app` for windows; null for events. */
  kind: MetricKind | null;
  /** Start (ms) of the UTC day. */
  dayStartMs: number;
  /** Relative to the archive root (`<dataDir>/archive/telemetry`), `/`-separated. */
  path: string;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  createdAtMs: number;
}

export interface ArchiveListQuery {
  table?: ArchiveTable;
  kind?: MetricKind;
  /** Days starting in [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
}

export interface DeleteDayOptions {
  /**
   * PostgreSQL: the day is past every retention of its table (no ingest can add to it), so the
   * partition may be detached and dropped when it holds nothing else. Ignored by SQLite.
   */
  dropPartition: boolean;
  /** SQLite deletes in chunks of this many rows (one short write transaction each). */
  chunkRows: number;
}

export interface TelemetryRetentionStore {
  /**
   * UTC day starts, ascending, holding rows of `source` that start in [fromMs, beforeMs) (from the
   * oldest row when `fromMs` is absent). PostgreSQL reads only the partitions of that range.
   */
  rawDays(source: RawSource, beforeMs: number, fromMs?: number): Promise<number[]>;
  /** Every window of `kind` starting in the day, in pages of at most `pageRows`, in a fixed order. */
  readWindowDay(
    kind: MetricKind,
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: RawWindowRecord[]) => Promise<void>,
  ): Promise<void>;
  /** Every event of the day, in pages of at most `pageRows`, in a fixed order. */
  readEventDay(
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: StoredEvent[]) => Promise<void>,
  ): Promise<void>;
  /** Records a file in the catalog; recording the same (table, kind, day) again replaces it. */
  recordArchive(entry: ArchiveEntry): Promise<void>;
  /** Catalog entries by day, then table, then kind. */
  listArchives(query?: ArchiveListQuery): Promise<ArchiveEntry[]>;
  /** Deletes the day's rows of `source`; rows deleted, and whether a partition was dropped. */
  deleteRawDay(
    source: RawSource,
    dayStartMs: number,
    options: DeleteDayOptions,
  ): Promise<{ rows: number; droppedPartition: boolean }>;
  /** PostgreSQL: drops empty day partitions of the table before `beforeMs`; SQLite: 0. */
  dropEmptyPartitions(table: ArchiveTable, beforeMs: number): Promise<number>;
  /** Deletes rollups of the resolution whose bucket starts before `beforeMs`; rows deleted. */
  deleteRollupsBefore(resolution: 'hour' | 'day', beforeMs: number, chunkRows: number): Promise<number>;
  /** Deletes dedup rows of batches received before `beforeMs`; rows deleted. */
  deleteBatchesBefore(beforeMs: number, chunkRows: number): Promise<number>;
}
