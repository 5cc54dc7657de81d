/** The dashboard's snapshots and rollout counts on the shared better-sqlite3 handle. */
import type Database from 'better-sqlite3';
import {
  memberStateSql,
  snapshotColumns,
  snapshotFromRow,
  snapshotStep,
  snapshotValues,
  type DashboardSnapshot,
  type DashboardStore,
  type RolloutStateCount,
  type SnapshotRow,
} from '../dashboard-types.ts';
import { runSync } from './sqlite-errors.ts';

export class SqliteDashboardStore implements DashboardStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  insertSnapshot(snapshot: DashboardSnapshot): Promise<void> {
    return runSync(this.#db, () => {
      this.#db
        .prepare(`INSERT OR REPLACE INTO dashboard_snapshots (${snapshotColumns}) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(...snapshotValues(snapshot));
    });
  }

  deleteSnapshotsBefore(beforeMs: number): Promise<number> {
    return runSync(
      this.#db,
      () => this.#db.prepare('DELETE FROM dashboard_snapshots WHERE at_ms < ?').run(beforeMs).changes,
    );
  }

  listSnapshots(fromMs: number, toMs: number, maxPoints: number): Promise<DashboardSnapshot[]> {
    return runSync(this.#db, () => {
      const count =
        this.#db
          .prepare<[number, number], { count: number }>(
            'SELECT count(*) AS count FROM dashboard_snapshots WHERE at_ms >= ? AND at_ms <= ?',
          )
          .get(fromMs, toMs)?.count ?? 0;
      const rows = this.#db
        .prepare<[number, number, number], SnapshotRow<number>>(
          `SELECT ${snapshotColumns} FROM (
             SELECT ${snapshotColumns}, row_number() OVER (ORDER BY at_ms) - 1 AS n
             FROM dashboard_snapshots WHERE at_ms >= ? AND at_ms <= ?
           ) WHERE n % ? = 0 ORDER BY at_ms`,
        )
        .all(fromMs, toMs, snapshotStep(count, maxPoints));
      return rows.map(snapshotFromRow);
    });
  }

  rolloutDeviceStates(rolloutIds: readonly string[]): Promise<RolloutStateCount[]> {
    return runSync(this.#db, () =>
      this.#db
        .prepare<[string], { rollout_id: string; state: string; devices: number }>(
          `SELECT rd.rollout_id AS rollout_id, ${memberStateSql} AS state, count(*) AS devices
           FROM rollout_devices rd
           LEFT JOIN update_executions ue ON ue.device_id = rd.device_id AND ue.deployment_id = rd.deployment_id
           WHERE rd.rollout_id IN (SELECT value FROM json_each(?))
           GROUP BY 1, 2`,
        )
        .all(JSON.stringify(rolloutIds))
        .map((row) => ({ rolloutId: row.rollout_id, state: row.state, devices: row.devices })),
    );
  }
}
