/**
 * Day partitions of the raw telemetry tables (declarative range partitioning on ms since the
 * epoch), created on demand before a write needs them. Creation runs in its own short
 * transaction (it locks the parent table), serialised per schema and table by an advisory lock
 * and idempotent (IF NOT EXISTS), so replicas and concurrent writers may all ask at once.
 */
import { DAY_MS } from '../../telemetry/rollups.ts';
import type { PgSession } from './pg-session.ts';

export type PartitionedTable = 'telemetry_windows' | 'telemetry_events';

/** `telemetry_windows_p20261127`: the partition holding the UTC day starting at `dayStartMs`. */
export function partitionName(table: PartitionedTable, dayStartMs: number): string {
  return `${table}_p${new Date(dayStartMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export class TelemetryPartitions {
  readonly #session: PgSession;
  /** Partitions this process has created or found: asked for again without a round trip. */
  readonly #known = new Set<string>();

  constructor(session: PgSession) {
    this.#session = session;
  }

  /** Makes sure a partition exists for each UTC day (start ms) of `days`. */
  async ensure(table: PartitionedTable, days: readonly number[]): Promise<void> {
    const missing = days.filter((day) => !this.#known.has(partitionName(table, day)));
    if (missing.length === 0) return;
    await this.#session.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || $1))", [
        `flotilla.partition.${table}`,
      ]);
      for (const day of missing) {
        // Names and bounds are generated from integers, never from input text.
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(table, day)} PARTITION OF ${table}
            FOR VALUES FROM (${day}) TO (${day + DAY_MS})`,
        );
      }
    });
    for (const day of missing) this.#known.add(partitionName(table, day));
  }
}
