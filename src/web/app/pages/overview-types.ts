/**
 * The answer of `GET /api/v1/dashboard/overview` (and of the SSE `overview` event). Declared here
 * until the route's schema lands; then this becomes `import type` from src/dashboard/overview-schema.ts.
 */
import type { FleetMetricsSummary } from '../../../fleet-metrics/fleet-summary.ts';

export interface OverviewRollout {
  id: string;
  model: string;
  version: string;
  status: string;
  /** 0-based stage being rolled out. */
  stageIndex: number;
  stageCount: number;
  /** The current stage's cumulative share of the rollout's devices in % (count stages converted). */
  stagePercent: number;
  /** Devices per update state; states with none are absent. */
  devices: Record<string, number>;
  pauseReason: string | null;
  /** ISO 8601 */
  createdAt: string;
}

export interface TrendPoint {
  atMs: number;
  total: number;
  online: number;
  onlinePct: number | null;
  onCurrentRelease: number;
  currentPct: number | null;
  openAlerts: number;
}

export interface DashboardOverview {
  atMs: number;
  fleet: FleetMetricsSummary;
  /** Unresolved alerts: `open` includes the acknowledged ones. */
  alerts: {
    open: number;
    bySeverity: { critical: number; warning: number; info: number };
    acknowledged: number;
  };
  rollouts: OverviewRollout[];
  /** `scoped`: a caller limited to a device query gets no points (snapshots are whole-fleet numbers). */
  trends: { fromMs: number; toMs: number; points: TrendPoint[]; scoped: boolean };
}
