/**
 * Reads what the health-regression gate compares: telemetry of the rollout's updated devices
 * since their update, and of its devices still on the old version over the same period (or, when
 * too few are left, of the updated devices before their update). The statistics are pure, in
 * health-regression.ts; this module picks the devices and their time ranges. Rules:
 * docs/rollouts.md, "Health regression".
 */
import type { RolloutMember } from '../../store/rollout-types.ts';
import type { UpdateExecution } from '../../store/update-types.ts';
import type { GateResult } from './gates.ts';
import {
  counterMetrics,
  evaluateHealthRegression,
  type HealthRegressionConfig,
  type MetricObservation,
  type RegressionInput,
  type RegressionMetric,
} from './health-regression.ts';

/** A device's telemetry summary for one metric over one time range. */
export interface MetricSummary {
  /** Sum of the window aggregates (`avg * count`): occurrences, for counters. */
  sum: number;
  /** Time covered by the device's windows inside the range. */
  coveredMs: number;
  first?: { atMs: number; value: number };
  last?: { atMs: number; value: number };
}

export interface DeviceRange {
  deviceId: string;
  fromMs: number;
  toMs: number;
}

/** The port the gate reads telemetry through (the telemetry store implements it). */
export interface TelemetryReader {
  /** Per device (each with its own range) and metric; devices or metrics without data are absent. */
  summarizeRanges(
    ranges: readonly DeviceRange[],
    metrics: readonly string[],
  ): Promise<Map<string, Map<string, MetricSummary>>>;
}

/** Devices compared per side at most: a fixed sample keeps a tick's reads bounded at any fleet size. */
export const HEALTH_SAMPLE_DEVICES = 500;

/** The telemetry metric each compared metric is computed from. */
const sourceMetric = (metric: RegressionMetric): string =>
  metric === 'battery_drain' ? 'battery_pct' : metric;

/** Every n-th element so that at most `max` remain (a fixed, spread-out sample). */
export function evenSample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}

export interface HealthRanges {
  /** Devices the rollout has meant to update so far (stages up to the current one, not skipped). */
  dueSoFar: number;
  updated: DeviceRange[];
  baseline: DeviceRange[];
  baselineLabel: string;
}

/**
 * Which devices and time ranges to compare at `nowMs`. Updated: members whose execution of this
 * rollout succeeded, from their success (at most `windowS` back) to now. Baseline: members not
 * updated, from `windowS` back until they started updating (or now). Members come sorted by
 * device id from the store, so the sample is the same on every tick.
 */
export function healthRanges(
  config: HealthRegressionConfig,
  members: readonly RolloutMember[],
  executions: ReadonlyMap<string, UpdateExecution>,
  stageIndex: number,
  nowMs: number,
): HealthRanges {
  const windowStart = nowMs - config.windowS * 1000;
  let dueSoFar = 0;
  const updated: DeviceRange[] = [];
  const before: DeviceRange[] = [];
  const baseline: DeviceRange[] = [];
  for (const member of members) {
    if (member.skipReason !== null) continue;
    if (member.stageIndex <= stageIndex) dueSoFar += 1;
    const execution = member.deploymentId === null ? undefined : executions.get(member.deviceId);
    const ours = execution !== undefined && execution.deploymentId === member.deploymentId;
    if (ours && execution.state === 'success') {
      const successMs = Date.parse(execution.finishedAt ?? execution.updatedAt);
      updated.push({ deviceId: member.deviceId, fromMs: Math.max(successMs, windowStart), toMs: nowMs });
      const startedMs = member.startedAtMs ?? successMs;
      before.push({ deviceId: member.deviceId, fromMs: startedMs - config.windowS * 1000, toMs: startedMs });
    } else if (!ours || execution.state === 'offered' || execution.state === 'cancelled') {
      // Not started, only offered or withdrawn: still runs the old version.
      baseline.push({ deviceId: member.deviceId, fromMs: windowStart, toMs: nowMs });
    } else if (member.startedAtMs !== null) {
      // Updating, failed or rolled back: its data before the update is old-version data.
      baseline.push({ deviceId: member.deviceId, fromMs: windowStart, toMs: member.startedAtMs });
    }
  }
  const long = (r: DeviceRange) => r.toMs - r.fromMs >= config.minObservationS * 1000;
  const current = baseline.filter(long);
  const useBefore = current.length < config.minDevices;
  return {
    dueSoFar,
    updated: evenSample(updated.filter(long), HEALTH_SAMPLE_DEVICES),
    baseline: evenSample(useBefore ? before.filter(long) : current, HEALTH_SAMPLE_DEVICES),
    baselineLabel: useBefore ? 'updated devices before their update' : 'old-version devices',
  };
}

async function observations(
  reader: TelemetryReader,
  ranges: readonly DeviceRange[],
  metrics: readonly RegressionMetric[],
): Promise<Map<RegressionMetric, MetricObservation[]>> {
  const sources = [...new Set(metrics.map(sourceMetric))];
  const summaries =
    ranges.length === 0
      ? new Map<string, Map<string, MetricSummary>>()
      : await reader.summarizeRanges(ranges, sources);
  const result = new Map<RegressionMetric, MetricObservation[]>();
  for (const metric of metrics) {
    const list: MetricObservation[] = [];
    for (const range of ranges) {
      const summary = summaries.get(range.deviceId)?.get(sourceMetric(metric));
      if (summary === undefined) continue;
      const observation: MetricObservation = {
        deviceId: range.deviceId,
        sum: summary.sum,
        coveredMs: summary.coveredMs,
      };
      if (summary.first) observation.first = summary.first;
      if (summary.last) observation.last = summary.last;
      list.push(observation);
    }
    result.set(metric, list);
  }
  return result;
}

/**
 * The health-regression gate results (one per configured metric) at `nowMs`; none when the gate
 * is disabled.
 */
export async function evaluateHealthGate(
  reader: TelemetryReader,
  config: HealthRegressionConfig,
  members: readonly RolloutMember[],
  executions: ReadonlyMap<string, UpdateExecution>,
  stageIndex: number,
  nowMs: number,
): Promise<GateResult[]> {
  if (!config.enabled) return [];
  const metrics = (Object.keys(config.metrics) as RegressionMetric[]).filter(
    (m) => (counterMetrics as readonly string[]).includes(m) || m === 'battery_drain',
  );
  if (metrics.length === 0) return [];
  const ranges = healthRanges(config, members, executions, stageIndex, nowMs);
  const input: RegressionInput = {
    updated: await observations(reader, ranges.updated, metrics),
    baseline: await observations(reader, ranges.baseline, metrics),
    baselineLabel: ranges.baselineLabel,
  };
  // A one-device canary stage can never show three updated devices: wait for as many as it has.
  const minDevices = Math.max(1, Math.min(config.minDevices, ranges.dueSoFar));
  return evaluateHealthRegression({ ...config, minDevices }, input).map((r) => ({
    gate: 'health-regression',
    metric: r.metric,
    value: r.value,
    threshold: r.threshold,
    status: r.status,
    detail: r.detail,
  }));
}
