/**
 * The overview page in one answer (docs/dashboard.md): the fleet summary of the caller's scope,
 * alert counts, active rollouts with devices per state, and the last 24 h of trends. Every part is
 * an aggregate in the database, so its cost does not grow with the devices listed.
 */
import type { Clock } from '../infra/clock.ts';
import type { FleetMetricsService } from '../fleet-metrics/fleet-metrics-service.ts';
import { stageTarget } from '../ota/rollouts/rollout-spec.ts';
import type { AlertStore } from '../store/alert-types.ts';
import type { DashboardSnapshot, DashboardStore, RolloutStateCount } from '../store/dashboard-types.ts';
import type { FleetMetricsStore } from '../store/fleet-metrics-types.ts';
import type { RolloutRecord, RolloutStore } from '../store/rollout-types.ts';
import type {
  ActiveRollout,
  DashboardAlerts,
  DashboardOverview,
  DashboardTrends,
} from './overview-schema.ts';
import { DAY_MS, MAX_TREND_POINTS, trendPoint } from './trends.ts';

/** Active rollouts the overview lists at most. */
export const MAX_OVERVIEW_ROLLOUTS = 20;

export interface OverviewServiceDeps {
  fleetMetrics: Pick<FleetMetricsService, 'summary'>;
  metrics: Pick<FleetMetricsStore, 'countDevices' | 'currentRelease'>;
  alerts: Pick<AlertStore, 'countUnresolved'>;
  rollouts: Pick<RolloutStore, 'listActiveRollouts'>;
  dashboard: DashboardStore;
  clock: Clock;
}

/** Which devices the caller sees: `where` is its scope's fleet query (undefined: the whole fleet). */
export interface OverviewScope {
  where: string | undefined;
}

export function createOverviewService(deps: OverviewServiceDeps) {
  const { clock } = deps;

  async function alertCounts(): Promise<DashboardAlerts> {
    const counts: DashboardAlerts = {
      open: 0,
      bySeverity: { critical: 0, warning: 0, info: 0 },
      acknowledged: 0,
    };
    for (const row of await deps.alerts.countUnresolved()) {
      counts.open += row.count;
      counts.bySeverity[row.severity] += row.count;
      if (row.state === 'acknowledged') counts.acknowledged += row.count;
    }
    return counts;
  }

  async function activeRollouts(): Promise<ActiveRollout[]> {
    const newest = (await deps.rollouts.listActiveRollouts())
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1))
      .slice(0, MAX_OVERVIEW_ROLLOUTS);
    if (newest.length === 0) return [];
    const states = await deps.dashboard.rolloutDeviceStates(newest.map((r) => r.id));
    return newest.map((rollout) => rolloutSummary(rollout, states));
  }

  async function trends(fromMs: number, toMs: number, scoped: boolean): Promise<DashboardTrends> {
    if (scoped) return { fromMs, toMs, scoped, points: [] };
    const snapshots = await deps.dashboard.listSnapshots(fromMs, toMs, MAX_TREND_POINTS);
    return { fromMs, toMs, scoped, points: snapshots.map(trendPoint) };
  }

  return {
    /** ValidationError when the scope's query is invalid. */
    async overview(scope: OverviewScope): Promise<DashboardOverview> {
      const atMs = clock.now();
      const scoped = scope.where !== undefined;
      const [fleet, alerts, rollouts, trend] = await Promise.all([
        deps.fleetMetrics.summary(scope.where === undefined ? {} : { where: scope.where }),
        alertCounts(),
        activeRollouts(),
        trends(atMs - DAY_MS, atMs, scoped),
      ]);
      return { atMs, fleet, alerts, rollouts, trends: trend };
    },

    trends,

    /** Whole-fleet numbers now, for a trend snapshot. */
    async snapshot(): Promise<DashboardSnapshot> {
      const atMs = clock.now();
      const scope = { nowMs: atMs };
      const [counts, current, alerts] = await Promise.all([
        deps.metrics.countDevices(scope),
        deps.metrics.currentRelease(scope),
        alertCounts(),
      ]);
      return {
        atMs,
        total: counts.total,
        online: counts.online,
        withRelease: current.withRelease,
        onCurrentRelease: current.onCurrent,
        openAlerts: alerts.open,
      };
    },
  };
}

export type OverviewService = ReturnType<typeof createOverviewService>;

function rolloutSummary(rollout: RolloutRecord, states: readonly RolloutStateCount[]): ActiveRollout {
  const devices: Record<string, number> = {};
  let members = 0;
  for (const row of states) {
    if (row.rolloutId !== rollout.id) continue;
    devices[row.state] = row.devices;
    members += row.devices;
  }
  const { spec, state } = rollout;
  const stage = spec.stages[state.stageIndex];
  const target = stage === undefined ? undefined : stageTarget(stage);
  const stagePercent =
    target === undefined
      ? 100
      : target.kind === 'percent'
        ? target.percent
        : members > 0
          ? Math.min(100, (100 * target.count) / members)
          : 100;
  return {
    id: rollout.id,
    model: spec.release.model,
    version: spec.release.version,
    status: state.status,
    stageIndex: state.stageIndex,
    stageCount: spec.stages.length,
    stagePercent,
    devices,
    pauseReason: state.pauseReason?.message ?? null,
    createdAt: new Date(rollout.createdAtMs).toISOString(),
  };
}
