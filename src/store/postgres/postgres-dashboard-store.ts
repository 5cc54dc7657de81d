/** The dashboard's snapshots and rollout counts on the shared pg pool. */
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
import type { PgSession } from './pg-session.ts';

export class PostgresDashboardStore implements DashboardStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async insertSnapshot(snapshot: DashboardSnapshot): Promise<void> {
    await this.#session.query(
      `INSERT INTO dashboard_snapshots (${snapshotColumns}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (at_ms) DO UPDATE SET total = EXCLUDED.total, online = EXCLUDED.online,
         with_release = EXCLUDED.with_release, on_current_release = EXCLUDED.on_current_release,
         open_alerts = EXCLUDED.open_alerts`,
      snapshotValues(snapshot),
    );
  }

  async deleteSnapshotsBefore(beforeMs: number): Promise<number> {
    const result = await this.#session.query('DELETE FROM dashboard_snapshots WHERE at_ms < $1', [beforeMs]);
    return result.rowCount ?? 0;
  }

  async listSnapshots(fromMs: number, toMs: number, maxPoints: number): Promise<DashboardSnapshot[]> {
    // count(*) is bigint, which pg returns as text.
    const counted = await this.#session.query<{ count: string }>(
      'SELECT count(*) AS count FROM dashboard_snapshots WHERE at_ms >= $1 AND at_ms <= $2',
      [fromMs, toMs],
    );
    const step = snapshotStep(Number(counted.rows[0]?.count ?? 0), maxPoints);
    const result = await this.#session.query<SnapshotRow<string | number>>(
      `SELECT ${snapshotColumns} FROM (
         SELECT ${snapshotColumns}, row_number() OVER (ORDER BY at_ms) - 1 AS n
         FROM dashboard_snapshots WHERE at_ms >= $1 AND at_ms <= $2
       ) AS numbered WHERE n % $3 = 0 ORDER BY at_ms`,
      [fromMs, toMs, step],
    );
    return result.rows.map(snapshotFromRow);
  }

  async rolloutDeviceStates(rolloutIds: readonly string[]): Promise<RolloutStateCount[]> {
    const result = await this.#session.query<{ rollout_id: string; state: string; devices: string }>(
      `SELECT rd.rollout_id AS rollout_id, ${memberStateSql} AS state, count(*) AS devices
       FROM rollout_devices rd
       LEFT JOIN update_executions ue ON ue.device_id = rd.device_id AND ue.deployment_id = rd.deployment_id
       WHERE rd.rollout_id = ANY($1::text[])
       GROUP BY 1, 2`,
      [rolloutIds],
    );
    return result.rows.map((row) => ({
      rolloutId: row.rollout_id,
      state: row.state,
      devices: Number(row.devices),
    }));
  }
}
