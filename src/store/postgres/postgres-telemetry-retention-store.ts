/**
 * The retention store on the shared pg pool. A day is read through one server-side cursor (one
 * sort, fetched in pages, one snapshot). An expired day partition that holds nothing else is
 * detached and dropped rather than emptied row by row, under the advisory lock the partition
 * creator takes (postgres-telemetry-partitions.ts), so the two never interleave.
 */
import type pg from 'pg';
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
import type { PgSession } from './pg-session.ts';
import { partitionName, type PartitionedTable } from './postgres-telemetry-partitions.ts';

const sql = {
  windowDays: `SELECT DISTINCT start_ms - mod(start_ms, ${DAY_MS}) AS day FROM telemetry_windows
    WHERE start_ms >= $3 AND start_ms < $1 AND kind = $2 ORDER BY day`,
  eventDays: `SELECT DISTINCT at_ms - mod(at_ms, ${DAY_MS}) AS day FROM telemetry_events
    WHERE at_ms >= $2 AND at_ms < $1 ORDER BY day`,
  windowCursor: `DECLARE flotilla_archive NO SCROLL CURSOR FOR
    SELECT ${rawWindowColumns} FROM telemetry_windows WHERE kind = $1 AND start_ms >= $2 AND start_ms < $3
    ORDER BY start_ms, device_id, metric, end_ms, min, max, avg, count, last`,
  eventCursor: `DECLARE flotilla_archive NO SCROLL CURSOR FOR
    SELECT ${rawEventColumns} FROM telemetry_events WHERE at_ms >= $1 AND at_ms < $2
    ORDER BY at_ms, device_id, seq, type, severity, code, message`,
  recordArchive: `INSERT INTO telemetry_archives (${archiveColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (source_table, kind, day_start_ms) DO UPDATE SET path = EXCLUDED.path,
      row_count = EXCLUDED.row_count, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
      created_at = EXCLUDED.created_at`,
  listArchives: `SELECT ${archiveColumns} FROM telemetry_archives
    WHERE ($1::text IS NULL OR source_table = $1) AND ($2::text IS NULL OR kind = $2)
      AND day_start_ms >= $3 AND day_start_ms < $4
    ORDER BY day_start_ms, source_table, kind`,
  deleteWindows: 'DELETE FROM telemetry_windows WHERE kind = $1 AND start_ms >= $2 AND start_ms < $3',
  deleteEvents: 'DELETE FROM telemetry_events WHERE at_ms >= $1 AND at_ms < $2',
  deleteRollups: 'DELETE FROM telemetry_rollups WHERE resolution = $1 AND bucket_start_ms < $2',
  deleteBatches: 'DELETE FROM telemetry_batches WHERE received_at < $1',
  partitions: `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass($1) AND c.relkind = 'r' ORDER BY 1`,
  lockPartitions: "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || $1))",
} as const;

const tableOf = (table: ArchiveTable): PartitionedTable =>
  table === 'windows' ? 'telemetry_windows' : 'telemetry_events';

/** `telemetry_windows_p20261127` → the day's start ms. */
function dayOfPartition(name: string): number | undefined {
  const match = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : undefined;
}

export class PostgresTelemetryRetentionStore implements TelemetryRetentionStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async rawDays(source: RawSource, beforeMs: number, fromMs = Number.MIN_SAFE_INTEGER): Promise<number[]> {
    const result =
      source.table === 'windows'
        ? await this.#session.query<{ day: string }>(sql.windowDays, [beforeMs, source.kind, fromMs])
        : await this.#session.query<{ day: string }>(sql.eventDays, [beforeMs, fromMs]);
    return result.rows.map((r) => Number(r.day));
  }

  readWindowDay(
    kind: MetricKind,
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: RawWindowRecord[]) => Promise<void>,
  ): Promise<void> {
    return this.#readCursor<RawWindowDbRow>(
      sql.windowCursor,
      [kind, dayStartMs, dayStartMs + DAY_MS],
      pageRows,
      (rows) => onPage(rows.map(rawWindowFromRow)),
    );
  }

  readEventDay(
    dayStartMs: number,
    pageRows: number,
    onPage: (rows: StoredEvent[]) => Promise<void>,
  ): Promise<void> {
    return this.#readCursor<EventRow>(sql.eventCursor, [dayStartMs, dayStartMs + DAY_MS], pageRows, (rows) =>
      onPage(rows.map(eventFromRow)),
    );
  }

  async #readCursor<R extends pg.QueryResultRow>(
    declare: string,
    params: unknown[],
    pageRows: number,
    onPage: (rows: R[]) => Promise<void>,
  ): Promise<void> {
    const fetch = `FETCH FORWARD ${Math.max(1, Math.trunc(pageRows))} FROM flotilla_archive`;
    await this.#session.transaction(async (client) => {
      await client.query(declare, params);
      for (;;) {
        const page = await client.query<R>(fetch);
        if (page.rows.length > 0) await onPage(page.rows);
        if (page.rows.length < pageRows) return;
      }
    });
  }

  async recordArchive(entry: ArchiveEntry): Promise<void> {
    await this.#session.query(sql.recordArchive, archiveValues(entry));
  }

  async listArchives(query: ArchiveListQuery = {}): Promise<ArchiveEntry[]> {
    const result = await this.#session.query<ArchiveRow>(sql.listArchives, [
      query.table ?? null,
      query.kind ?? null,
      query.fromMs ?? Number.MIN_SAFE_INTEGER,
      query.toMs ?? Number.MAX_SAFE_INTEGER,
    ]);
    return result.rows.map(archiveFromRow);
  }

  async deleteRawDay(
    source: RawSource,
    dayStartMs: number,
    options: DeleteDayOptions,
  ): Promise<{ rows: number; droppedPartition: boolean }> {
    if (options.dropPartition) {
      const dropped = await this.#dropPartition(source, dayStartMs);
      if (dropped !== undefined) return { rows: dropped, droppedPartition: true };
    }
    const dayEndMs = dayStartMs + DAY_MS;
    const result =
      source.table === 'windows'
        ? await this.#session.query(sql.deleteWindows, [source.kind, dayStartMs, dayEndMs])
        : await this.#session.query(sql.deleteEvents, [dayStartMs, dayEndMs]);
    return { rows: result.rowCount ?? 0, droppedPartition: false };
  }

  /** Detaches and drops the day's partition when it holds no rows but the source's; its row count. */
  #dropPartition(source: RawSource, dayStartMs: number): Promise<number | undefined> {
    const table = tableOf(source.table);
    // Names are generated from integers, never from input text.
    const partition = partitionName(table, dayStartMs);
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockPartitions, [`flotilla.partition.${table}`]);
      const exists = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
        partition,
      ]);
      if (exists.rows[0]?.found !== true) return undefined;
      if (source.table === 'windows') {
        const other = await client.query<{ found: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM ${partition} WHERE kind <> $1) AS found`,
          [source.kind],
        );
        if (other.rows[0]?.found !== false) return undefined;
      }
      const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${partition}`);
      await this.#detach(client, table, partition);
      return Number(count.rows[0]?.n ?? 0);
    });
  }

  async #detach(client: pg.PoolClient, table: PartitionedTable, partition: string): Promise<void> {
    await client.query(`ALTER TABLE ${table} DETACH PARTITION ${partition}`);
    await client.query(`DROP TABLE ${partition}`);
  }

  async dropEmptyPartitions(table: ArchiveTable, beforeMs: number): Promise<number> {
    const parent = tableOf(table);
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockPartitions, [`flotilla.partition.${parent}`]);
      const partitions = await client.query<{ name: string }>(sql.partitions, [parent]);
      let dropped = 0;
      for (const { name } of partitions.rows) {
        const day = dayOfPartition(name);
        if (day === undefined || day >= beforeMs || name !== partitionName(parent, day)) continue;
        const rows = await client.query<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${name}) AS found`);
        if (rows.rows[0]?.found !== false) continue;
        await this.#detach(client, parent, name);
        dropped += 1;
      }
      return dropped;
    });
  }

  async deleteRollupsBefore(resolution: 'hour' | 'day', beforeMs: number): Promise<number> {
    const result = await this.#session.query(sql.deleteRollups, [resolution, beforeMs]);
    return result.rowCount ?? 0;
  }

  async deleteBatchesBefore(beforeMs: number): Promise<number> {
    const result = await this.#session.query(sql.deleteBatches, [beforeMs]);
    return result.rowCount ?? 0;
  }
}
