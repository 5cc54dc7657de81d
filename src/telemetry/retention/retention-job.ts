/**
 * The retention job: on an interval (and once shortly after start), for every raw source, each
 * wholly expired UTC day is exported to a Parquet file and then deleted from the hot store; expired
 * rollups and dedup rows are deleted. The plan is pure (retention-plan.ts); this file is the I/O.
 *
 * Crash safety, step by step for one day: (1) write a temp file, fsync, rename — a crash leaves a
 * temp file or a whole file, never a half one at the final path; (2) record the file in the
 * catalog — the commit point; a crash before it re-exports the day on the next run, to identical
 * bytes, and the catalog insert is idempotent; (3) delete the day's hot rows — a crash during it
 * (SQLite deletes in chunks) resumes the deletion on the next run without exporting again, since
 * the day is in the catalog and ingest refuses rows that old.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type {
  ArchiveEntry,
  RawSource,
  TelemetryRetentionStore,
} from '../../store/telemetry-retention-types.ts';
import { ArchiveFile } from './archive-file.ts';
import { eventColumns, eventSchema, windowColumns, windowSchema } from './parquet-schemas.ts';
import type { RetentionMetrics } from './retention-metrics.ts';
import {
  archivePath,
  dayLabel,
  planRetention,
  sourceLabel,
  type RawStep,
  type RetentionPlan,
  type RetentionDays,
} from './retention-plan.ts';

export interface RetentionJobDeps {
  store: TelemetryRetentionStore;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metrics: RetentionMetrics;
  /** `<dataDir>/archive/telemetry`. */
  archiveRoot: string;
}

export interface RetentionJobSettings {
  retentionDays: RetentionDays;
  intervalS: number;
  initialDelayS: number;
  /** Rows per store page and per Parquet row group. */
  pageRows: number;
  /** Rows per delete statement where the store deletes in chunks (SQLite). */
  deleteChunkRows?: number;
}

export interface RetentionReport {
  archived: ArchiveEntry[];
  /** Rows deleted, by table. */
  deleted: { windows: number; events: number; rollups: number; batches: number };
  droppedPartitions: number;
}

export class RetentionJob {
  readonly #deps: RetentionJobDeps;
  readonly #settings: RetentionJobSettings;
  #handles: unknown[] = [];
  #running: Promise<void> | undefined;

  constructor(deps: RetentionJobDeps, settings: RetentionJobSettings) {
    this.#deps = deps;
    this.#settings = settings;
  }

  start(): void {
    const { timers } = this.#deps;
    this.#handles = [
      timers.setTimeout(() => this.#tick(), this.#settings.initialDelayS * 1000),
      timers.setInterval(() => this.#tick(), this.#settings.intervalS * 1000),
    ];
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    const [timeout, interval] = this.#handles;
    this.#deps.timers.clearTimeout(timeout);
    this.#deps.timers.clearInterval(interval);
    this.#handles = [];
    await this.#running;
  }

  #tick(): void {
    if (this.#running) return; // a slow run is not overlapped by the next one
    this.#running = this.runOnce()
      .then(
        () => undefined,
        () => undefined, // counted and logged by runOnce; the next interval tries again
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** One pass over every tier at the clock's current time. */
  async runOnce(): Promise<RetentionReport> {
    const { metrics, logger, clock } = this.#deps;
    try {
      const report = await this.#run(planRetention(clock.now(), this.#settings.retentionDays));
      metrics.runs.inc({ outcome: 'success' });
      metrics.lastSuccess.set(clock.now() / 1000);
      return report;
    } catch (error) {
      metrics.runs.inc({ outcome: 'failure' });
      logger.error({ err: error }, 'telemetry retention run failed');
      throw error;
    }
  }

  async #run(plan: RetentionPlan): Promise<RetentionReport> {
    const { store, metrics } = this.#deps;
    const chunkRows = this.#settings.deleteChunkRows ?? 10_000;
    const report: RetentionReport = {
      archived: [],
      deleted: { windows: 0, events: 0, rollups: 0, batches: 0 },
      droppedPartitions: 0,
    };
    for (const step of plan.raw) await this.#expireRaw(step, chunkRows, report);
    for (const table of ['windows', 'events'] as const) {
      const before = Math.min(
        ...plan.raw.filter((s) => s.source.table === table).map((s) => s.dropPartitionBeforeMs),
      );
      report.droppedPartitions += await store.dropEmptyPartitions(table, before);
    }
    for (const { resolution, beforeMs } of plan.rollups)
      report.deleted.rollups += await store.deleteRollupsBefore(resolution, beforeMs, chunkRows);
    report.deleted.batches = await store.deleteBatchesBefore(plan.batchesBeforeMs, chunkRows);
    metrics.deletedRows.inc({ table: 'rollups' }, report.deleted.rollups);
    metrics.deletedRows.inc({ table: 'batches' }, report.deleted.batches);
    return report;
  }

  async #expireRaw(step: RawStep, chunkRows: number, report: RetentionReport): Promise<void> {
    const { store, metrics, logger } = this.#deps;
    const { source } = step;
    const catalogued = new Set(
      (
        await store.listArchives({
          table: source.table,
          ...(source.table === 'windows' && { kind: source.kind }),
          toMs: step.beforeMs,
        })
      ).map((entry) => entry.dayStartMs),
    );
    // Days before the newest archived one were archived and deleted in order before it (and
    // ingest refuses rows that old), so only the newest archived day and later are looked at:
    // on PostgreSQL that reads a day or two of partitions, not the whole expired range.
    const newest = catalogued.size > 0 ? Math.max(...catalogued) : undefined;
    const days = await store.rawDays(source, step.beforeMs, newest);
    for (const day of days) {
      // In the catalog already: a previous run stopped after its commit point; only delete.
      const entry = catalogued.has(day) ? undefined : await this.#archiveDay(source, day);
      if (entry) {
        report.archived.push(entry);
        metrics.archivedRows.inc({ table: source.table }, entry.rows);
      }
      const deleted = await store.deleteRawDay(source, day, {
        dropPartition: day < step.dropPartitionBeforeMs,
        chunkRows,
      });
      report.deleted[source.table] += deleted.rows;
      if (deleted.droppedPartition) report.droppedPartitions += 1;
      metrics.deletedRows.inc({ table: source.table }, deleted.rows);
      logger.info(
        {
          source: sourceLabel(source),
          day: dayLabel(day),
          path: archivePath(source, day),
          archivedRows: entry?.rows ?? null,
          bytes: entry?.bytes ?? null,
          deletedRows: deleted.rows,
          droppedPartition: deleted.droppedPartition,
          resumed: entry === undefined,
        },
        'telemetry day archived',
      );
    }
  }

  /** Steps 1 and 2: the day's rows into a durable file, then into the catalog. */
  async #archiveDay(source: RawSource, dayStartMs: number): Promise<ArchiveEntry> {
    const { store, clock, archiveRoot } = this.#deps;
    const { pageRows } = this.#settings;
    const path = archivePath(source, dayStartMs);
    const file = await ArchiveFile.create(
      archiveRoot,
      path,
      source.table === 'windows' ? windowSchema : eventSchema,
    );
    let committed;
    try {
      if (source.table === 'windows')
        await store.readWindowDay(source.kind, dayStartMs, pageRows, (rows) =>
          file.append(windowColumns(rows), rows.length),
        );
      else
        await store.readEventDay(dayStartMs, pageRows, (rows) =>
          file.append(eventColumns(rows), rows.length),
        );
      committed = await file.commit();
    } catch (error) {
      await file.abort();
      throw error;
    }
    const entry: ArchiveEntry = {
      table: source.table,
      kind: source.table === 'windows' ? source.kind : null,
      dayStartMs,
      path,
      rows: file.rows,
      ...committed,
      createdAtMs: clock.now(),
    };
    await store.recordArchive(entry);
    return entry;
  }
}
