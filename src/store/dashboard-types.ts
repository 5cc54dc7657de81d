/**
 * The dashboard's own reads and writes (docs/dashboard.md): whole-fleet snapshots for the trends,
 * and devices per execution state of rollouts, by aggregates in the database. Implemented in
 * sqlite/ and postgres/; contract: test/dashboard/dashboard-store.contract.ts.
 */

/** Whole-fleet numbers at one time. */
export interface DashboardSnapshot {
  /** ms since epoch */
  atMs: number;
  total: number;
  online: number;
  /** Devices whose model has at least one release. */
  withRelease: number;
  /** Of those, devices running their model's newest release. */
  onCurrentRelease: number;
  /** Unresolved alerts (open and acknowledged). */
  openAlerts: number;
}

export interface RolloutStateCount {
  rolloutId: string;
  /** An execution state, `not-started` or `skipped` (as RolloutView.devices counts them). */
  state: string;
  devices: number;
}

export interface DashboardStore {
  /** Stores a snapshot; one at the same `atMs` is replaced. */
  insertSnapshot(snapshot: DashboardSnapshot): Promise<void>;
  /** Deletes snapshots taken before `beforeMs`; returns how many. */
  deleteSnapshotsBefore(beforeMs: number): Promise<number>;
  /**
   * Snapshots with fromMs <= atMs <= toMs, oldest first, at most `maxPoints`: when more were taken,
   * every step-th from the oldest, step = ceil(count / maxPoints) (snapshotStep).
   */
  listSnapshots(fromMs: number, toMs: number, maxPoints: number): Promise<DashboardSnapshot[]>;
  /** Devices per state of each of these rollouts (a member's execution of its own deployment). */
  rolloutDeviceStates(rolloutIds: readonly string[]): Promise<RolloutStateCount[]>;
}

/** Every how-many-th snapshot a range of `count` keeps to stay within `maxPoints`. */
export function snapshotStep(count: number, maxPoints: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, maxPoints)));
}

/** The state a rollout member counts under; shared by both dialects' SQL. */
export const memberStateSql = `CASE WHEN rd.skip_reason IS NOT NULL THEN 'skipped'
  WHEN ue.state IS NULL THEN 'not-started' ELSE ue.state END`;

export const snapshotColumns = 'at_ms, total, online, with_release, on_current_release, open_alerts';

export interface SnapshotRow<N> {
  at_ms: N;
  total: N;
  online: N;
  with_release: N;
  on_current_release: N;
  open_alerts: N;
}

export function snapshotFromRow<N>(row: SnapshotRow<N>): DashboardSnapshot {
  return {
    atMs: Number(row.at_ms),
    total: Number(row.total),
    online: Number(row.online),
    withRelease: Number(row.with_release),
    onCurrentRelease: Number(row.on_current_release),
    openAlerts: Number(row.open_alerts),
  };
}

export const snapshotValues = (s: DashboardSnapshot): number[] => [
  s.atMs,
  s.total,
  s.online,
  s.withRelease,
  s.onCurrentRelease,
  s.openAlerts,
];
