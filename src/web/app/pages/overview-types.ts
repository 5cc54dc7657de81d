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
  /** The current stage's share of the fleet in %, null for a count-sized stage. */
  stagePercent: number | null;
  /** Devices per update state; states with none are absent. */
  devices: Record<string, number>;
  pauseReason: string | null;
  createdAt: number | string;
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
  alerts: {
    open: number;
    bySeverity: { critical: number; warning: number; info: number };
    acknowledged: number;
  };
  rollouts: OverviewRollout[];
  /** `scoped`: the trends cover the whole fleet, not only the caller's scope. */
  trends: { points: TrendPoint[]; scoped?: boolean };
}
