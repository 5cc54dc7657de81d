/**
 * The retention store on the shared better-sqlite3 handle. Days are read in keyset pages on
 * (time, rowid) and deleted in chunks of rowids, each chunk its own short write transaction, so
 * ingest is never blocked for long by the job.
 */
import type Database from 'better-sqlite3';
import { DAY_MS } from '../../telemetry/rollups.ts';
import {
  archiveColumns,
  archiveFromRow,
  archiveValues,
  rawEventColumns,
  rawWindowColumns,
  rawWindowFromRow,
  type ArchiveRow,
  type RawWindowDbRow,
} from '../telemetry-archive-rows.ts';
import { eventFromRow, type EventRow } from '../telemetry-rows.ts';
import type {
  ArchiveEntry,
  ArchiveListQuery,
  ArchiveTable,
  DeleteDayOptions,
  RawSource,
  RawWindowRecord,
  TelemetryRetentionStore,
} from '../telemetry-retention-types.ts';
import type { MetricKind, StoredEvent } from '../telemetry-types.ts';
import { runSync } from './sqlite-errors.ts';

const sql = {
  windowDays: `SELECT DISTINCT start_ms - (start_ms % ${DAY_MS}) AS day FROM telemetry_windows
    WHERE start_ms >= ? AND start_ms < ? AND kind = ? ORDER BY day`,
  eventDays: `SELECT DISTINCT at_ms - (at_ms % ${DAY_MS}) AS day FROM telemetry_events
    WHERE at_ms >= ? AND at_ms < ? ORDER BY day`,
  windowPage: `SELECT rowid AS rid, ${rawWindowColumns} FROM telemetry_windows
    WHERE kind = ? AND start_ms >= ? AND start_ms < ? AND (start_ms, rowid) > (?, ?)
    ORDER BY start_ms, rowid LIMIT ?`,
  eventPage: `SELECT rowid AS rid, ${rawEventColumns} FROM telemetry_events
    WHERE at_ms >= ? AND at_ms < ? AND (at_ms, rowid) > (?, ?)
    ORDER BY at_ms, rowid LIMIT ?`,
  recordArchive: `INSERT INTO telemetry_archives (${archiveColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET path = excluded.path, row_count = excluded.row_count,
      bytes = excluded.bytes, sha256 = excluded.sha256, created_at = excluded.created_at`,
  listArchives: `SELECT ${archiveColumns} FROM telemetry_archives
    WHERE (? IS NULL OR source_table = ?) AND (? IS NULL OR kind = ?)
      AND day_start_ms >= ? AND day_start_ms < ?
    ORDER BY day_start_ms, source_table, kind`,
  deleteWindows: `DELETE FROM telemetry_windows WHERE rowid IN (SELECT rowid FROM telemetry_windows
    WHERE kind = ? AND start_ms >= ? AND start_ms < ? LIMIT ?)`,
  deleteEvents: `DELETE FROM telemetry_events WHERE rowid IN (SELECT rowid FROM telemetry_events
    WHERE at_ms >= ? AND at_ms < ? LIMIT ?)`,
  deleteRollups: `DELETE FROM telemetry_rollups
    WHERE (scope, scope_key, resolution, metric, bucket_start_ms) IN (
      SELECT scope, scope_key, resolution, metric, bucket_start_ms FROM telemetry_rollups
      WHERE resolution = ? AND bucket_start_ms < ? LIMIT ?)`,
  deleteBatches: `DELETE FROM telemetry_batches WHERE (device_id, seq) IN (
      SELECT device_id, seq FROM telemetry_batches WHERE received_at < ? LIMIT ?)`,
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

export class SqliteTelemetryRetentionStore implements TelemetryRetentionStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  rawDays(source: RawSource, beforeMs: number, fromMs = Number.MIN_SAFE_INTEGER): Promise<number[]> {
    return runSync(this.#db, () => {
      const rows = (
        source.table === 'windows'
          ? this.#s.windowDays.all(fromMs, beforeMs, source.kind)
          : this.#s.eventDays.all(fromMs, beforeMs)
      ) as Array<{ day: number }>;
      return rows.map((r) => r.day);
    });
  }

  async readWindowDay(
    kind: MetricKind,
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: RawWindowRecord[]) => Promise<void>,
  ): Promise<void> {
    let after: [number, number] = [dayStartMs - 1, 0];
    for (;;) {
      const rows = await runSync(
        this.#db,
        () =>
          this.#s.windowPage.all(kind, dayStartMs, dayStartMs + DAY_MS, ...after, pageRows) as Array<
            RawWindowDbRow & { rid: number; start_ms: number }
          >,
      );
      if (rows.length > 0) await onPage(rows.map(rawWindowFromRow));
      const last = rows.at(-1);
      if (!last || rows.length < pageRows) return;
      after = [last.start_ms, last.rid];
    }
  }

  async readEventDay(
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: StoredEvent[]) => Promise<void>,
  ): Promise<void> {
    let after: [number, number] = [dayStartMs - 1, 0];
    for (;;) {
      const rows = await runSync(
        this.#db,
        () =>
          this.#s.eventPage.all(dayStartMs, dayStartMs + DAY_MS, ...after, pageRows) as Array<
            EventRow & { rid: number; at_ms: number }
          >,
      );
      if (rows.length > 0) await onPage(rows.map(eventFromRow));
      const last = rows.at(-1);
      if (!last || rows.length < pageRows) return;
      after = [last.at_ms, last.rid];
    }
  }

  recordArchive(entry: ArchiveEntry): Promise<void> {
    return runSync(this.#db, () => {
      this.#s.recordArchive.run(...archiveValues(entry));
    });
  }

  listArchives(query: ArchiveListQuery = {}): Promise<ArchiveEntry[]> {
    return runSync(this.#db, () => {
      const table = query.table ?? null;
      const kind = query.kind ?? null;
      const rows = this.#s.listArchives.all(
        table,
        table,
        kind,
        kind,
        query.fromMs ?? Number.MIN_SAFE_INTEGER,
        query.toMs ?? Number.MAX_SAFE_INTEGER,
      ) as ArchiveRow[];
      return rows.map(archiveFromRow);
    });
  }

  async deleteRawDay(
    source: RawSource,
    dayStartMs: number,
    options: DeleteDayOptions,
  ): Promise<{ rows: number; droppedPartition: boolean }> {
    const dayEndMs = dayStartMs + DAY_MS;
    const rows = await this.#deleteInChunks(options.chunkRows, (limit) =>
      source.table === 'windows'
        ? this.#s.deleteWindows.run(source.kind, dayStartMs, dayEndMs, limit)
        : this.#s.deleteEvents.run(dayStartMs, dayEndMs, limit),
    );
    return { rows, droppedPartition: false };
  }

  dropEmptyPartitions(_table: ArchiveTable, _beforeMs: number): Promise<number> {
    return Promise.resolve(0);
  }

  deleteRollupsBefore(resolution: 'hour' | 'day', beforeMs: number, chunkRows: number): Promise<number> {
    return this.#deleteInChunks(chunkRows, (limit) => this.#s.deleteRollups.run(resolution, beforeMs, limit));
  }

  deleteBatchesBefore(beforeMs: number, chunkRows: number): Promise<number> {
    return this.#deleteInChunks(chunkRows, (limit) => this.#s.deleteBatches.run(beforeMs, limit));
  }

  /** Runs `chunk` (one statement, its own transaction) until it deletes fewer than `chunkRows`. */
  async #deleteInChunks(chunkRows: number, chunk: (limit: number) => Database.RunResult): Promise<number> {
    let total = 0;
    for (;;) {
      const { changes } = await runSync(this.#db, () => chunk(chunkRows));
      total += changes;
      if (changes < chunkRows) return total;
    }
  }
}
