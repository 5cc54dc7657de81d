/**
 * The overview built from the older routes, for a server without `GET /api/v1/dashboard/overview`:
 * the fleet summary, open and acknowledged alerts (first 1000 each) and the active rollouts (at
 * most five, one request each). No trends: they need the server's snapshots.
 */
import type { z } from 'zod';
import type { alertSchema } from '../../../api/routes/alerts.ts';
import type { rolloutSchema, rolloutViewSchema } from '../../../api/routes/rollouts.ts';
import type { FleetMetricsSummary } from '../../../fleet-metrics/fleet-summary.ts';
import { get } from '../api.ts';
import type { DashboardOverview, OverviewRollout } from './overview-types.ts';

type Alert = z.infer<typeof alertSchema>;
type Rollout = z.infer<typeof rolloutSchema>;
type RolloutView = z.infer<typeof rolloutViewSchema>;

const ALERT_PAGE = 1000;
const MAX_ROLLOUTS = 5;
const DAY_MS = 86_400_000;
const finalStatuses = new Set(['completed', 'cancelled']);

/** Like the overview route: "open" counts every unresolved alert, acknowledged ones included. */
async function alertCounts(): Promise<DashboardOverview['alerts']> {
  const [open, acknowledged] = await Promise.all([
    get<{ items: Alert[] }>('/api/v1/alerts', { state: 'open', limit: ALERT_PAGE }),
    get<{ items: Alert[] }>('/api/v1/alerts', { state: 'acknowledged', limit: ALERT_PAGE }),
  ]);
  const bySeverity = { critical: 0, warning: 0, info: 0 };
  for (const alert of [...open.items, ...acknowledged.items]) bySeverity[alert.severity] += 1;
  return {
    open: open.items.length + acknowledged.items.length,
    bySeverity,
    acknowledged: acknowledged.items.length,
  };
}

/** The current stage's cumulative share in %: percent stages add up, count stages count devices. */
function cumulativePercent(rollout: Rollout, devices: number): number {
  let percent = 0;
  let count = 0;
  for (const stage of rollout.spec.stages.slice(0, rollout.state.stageIndex + 1)) {
    if (stage.percent !== undefined) percent += stage.percent;
    else count += stage.count ?? 0;
  }
  return Math.min(100, percent + (devices > 0 ? (100 * count) / devices : 0));
}

function toOverviewRollout(rollout: Rollout, view: RolloutView | undefined): OverviewRollout {
  return {
    id: rollout.id,
    model: rollout.spec.release.model,
    version: rollout.spec.release.version,
    status: rollout.state.status,
    stageIndex: rollout.state.stageIndex,
    stageCount: rollout.spec.stages.length,
    stagePercent: cumulativePercent(
      rollout,
      Object.values(view?.devices ?? {}).reduce((sum, n) => sum + n, 0),
    ),
    devices: view?.devices ?? {},
    pauseReason: rollout.state.pauseReason?.message ?? null,
    createdAt: new Date(rollout.createdAtMs).toISOString(),
  };
}

async function activeRollouts(): Promise<OverviewRollout[]> {
  const list = await get<{ items: Rollout[] }>('/api/v1/rollouts', { limit: 100 });
  const active = list.items.filter((r) => !finalStatuses.has(r.state.status)).slice(0, MAX_ROLLOUTS);
  const views = await Promise.all(
    active.map((r) =>
      get<RolloutView>(`/api/v1/rollouts/${encodeURIComponent(r.id)}`).catch(() => undefined),
    ),
  );
  return active.map((rollout, i) => toOverviewRollout(rollout, views[i]));
}

const noAlerts: DashboardOverview['alerts'] = {
  open: 0,
  bySeverity: { critical: 0, warning: 0, info: 0 },
  acknowledged: 0,
};

/** Alerts and rollouts are asked for only when the role may read them. */
export async function loadOverviewFallback(can: (permission: string) => boolean): Promise<DashboardOverview> {
  const [fleet, alerts, rollouts] = await Promise.all([
    get<FleetMetricsSummary>('/api/v1/fleet/summary'),
    can('alerts:read') ? alertCounts() : Promise.resolve(noAlerts),
    can('rollouts:read') ? activeRollouts() : Promise.resolve([]),
  ]);
  return {
    atMs: fleet.atMs,
    fleet,
    alerts,
    rollouts,
    trends: { fromMs: fleet.atMs - DAY_MS, toMs: fleet.atMs, points: [], scoped: false },
  };
}
