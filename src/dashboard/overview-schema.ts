/**
 * The dashboard API's answers (docs/dashboard.md, "API for the dashboard"): the overview page's
 * one request, its trend points and the live stream's `overview` events. The single source of truth:
 * the web app imports these types (never values), so this module imports only zod and schema modules.
 */
import { z } from 'zod';
import { fleetMetricsSummarySchema } from '../fleet-metrics/fleet-summary.ts';
import { rolloutStatuses } from '../ota/rollouts/rollout-state.ts';

export const trendPointSchema = z.object({
  /** ms since epoch */
  atMs: z.number(),
  total: z.number().int(),
  online: z.number().int(),
  /** null without devices */
  onlinePct: z.number().nullable(),
  onCurrentRelease: z.number().int(),
  /** onCurrentRelease / devices whose model has a release, in %; null when no model has one */
  currentPct: z.number().nullable(),
  /** Unresolved (open and acknowledged) alerts. */
  openAlerts: z.number().int(),
});
export type TrendPoint = z.infer<typeof trendPointSchema>;

export const dashboardTrendsSchema = z.object({
  fromMs: z.number(),
  toMs: z.number(),
  /**
   * True for a caller whose role is limited to a device query: snapshots are whole-fleet numbers,
   * so `points` is then empty (the caller's current numbers are in the overview's `fleet`).
   */
  scoped: z.boolean(),
  /** Oldest first; at most 2,000 (evenly thinned when the range holds more snapshots). */
  points: z.array(trendPointSchema),
});
export type DashboardTrends = z.infer<typeof dashboardTrendsSchema>;

export const dashboardAlertsSchema = z.object({
  /** Unresolved alerts: open and acknowledged-but-unresolved. */
  open: z.number().int(),
  /** Unresolved alerts per severity (acknowledged ones included). */
  bySeverity: z.object({
    critical: z.number().int(),
    warning: z.number().int(),
    info: z.number().int(),
  }),
  /** Of the unresolved alerts, those acknowledged. */
  acknowledged: z.number().int(),
});
export type DashboardAlerts = z.infer<typeof dashboardAlertsSchema>;

export const activeRolloutSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  status: z.enum(rolloutStatuses),
  /** 0-based */
  stageIndex: z.number().int(),
  stageCount: z.number().int(),
  /** The current stage's cumulative share of the rollout's devices, in % (count stages converted). */
  stagePercent: z.number(),
  /** Devices per execution state; `not-started` and `skipped` included. */
  devices: z.record(z.string(), z.number().int()),
  /** Why it is paused (a gate's or an operator's message); null unless paused. */
  pauseReason: z.string().nullable(),
  /** ISO 8601 */
  createdAt: z.string(),
});
export type ActiveRollout = z.infer<typeof activeRolloutSchema>;

export const dashboardOverviewSchema = z.object({
  /** When it was computed (ms since epoch). */
  atMs: z.number(),
  /** The fleet summary of /api/v1/fleet/summary, narrowed to the caller's devices:read scope. */
  fleet: fleetMetricsSummarySchema,
  alerts: dashboardAlertsSchema,
  /** Rollouts neither completed nor cancelled, newest first, at most 20. */
  rollouts: z.array(activeRolloutSchema),
  /** The last 24 hours of snapshots. */
  trends: dashboardTrendsSchema,
});
export type DashboardOverview = z.infer<typeof dashboardOverviewSchema>;

/** `GET /api/v1/dashboard/trends` query: ISO 8601 times; the last 24 hours by default. */
export const dashboardTrendsQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('Start (ISO 8601); default: `to` minus 24 h'),
  to: z.iso.datetime({ offset: true }).optional().describe('End (ISO 8601); default: now'),
});
