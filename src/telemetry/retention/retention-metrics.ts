/** Prometheus metrics of the telemetry retention job. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface RetentionMetrics {
  /** Raw rows written to Parquet files, by table (windows, events). */
  archivedRows: Counter<'table'>;
  /** Rows deleted from the hot and warm tiers, by table (windows, events, rollups, batches). */
  deletedRows: Counter<'table'>;
  /** Job runs by outcome: success, failure. */
  runs: Counter<'outcome'>;
  /** End of the last successful run, seconds since the epoch. */
  lastSuccess: Gauge;
}

export function createRetentionMetrics(registry: Registry): RetentionMetrics {
  return {
    archivedRows: new Counter({
      name: 'flotilla_telemetry_archived_rows_total',
      help: 'Raw telemetry rows archived to Parquet files, by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    deletedRows: new Counter({
      name: 'flotilla_telemetry_retention_deleted_rows_total',
      help: 'Telemetry rows deleted by retention, by table (windows, events, rollups, batches)',
      labelNames: ['table'],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'flotilla_telemetry_archive_runs_total',
      help: 'Telemetry retention job runs, by outcome: success, failure',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'flotilla_telemetry_archive_last_success_timestamp_seconds',
      help: 'When the last successful telemetry retention run ended, seconds since the epoch',
      registers: [registry],
    }),
  };
}
