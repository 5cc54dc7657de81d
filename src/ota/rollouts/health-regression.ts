/**
 * The health-regression gate: do the devices that took the release run worse than the devices
 * still on the old version, over the same period? Pure: the orchestrator reads the telemetry and
 * passes per-device observations; rules and their reasoning are in docs/rollouts.md.
 *
 * Counters (errors, crashes, reboots, disconnects) are compared as Poisson rates per
 * device-hour with the exact conditional test (given the total count, the updated cohort's share
 * is binomial under "same rate"). Battery drain (% per hour, from each device's first and last
 * battery reading) is compared with a one-sided Mann-Whitney U test. A metric fails only when the
 * regression is both large (ratio above `maxRatio`) and significant (p below `alpha`): a small
 * cohort's noise does not stop a rollout, and a tiny but certain change does not either.
 */
import { z } from 'zod';
import { binomialUpperTail, poissonRateTest as rateTest } from '../../stats/binomial.ts';
import { mannWhitneyGreater } from '../../stats/rank-tests.ts';
import { median } from '../../stats/robust.ts';

// Kept importable from here: the statistics moved to src/stats/ (shared with anomaly detection).
export { binomialUpperTail, mannWhitneyGreater, median };
export { normalUpperTail } from '../../stats/rank-tests.ts';

export const counterMetrics = ['errors', 'crashes', 'reboots', 'disconnects'] as const;
export type CounterMetric = (typeof counterMetrics)[number];
export const regressionMetrics = [...counterMetrics, 'battery_drain'] as const;
export type RegressionMetric = (typeof regressionMetrics)[number];

const HOUR_MS = 3_600_000;

const ratio = z.number().min(1, 'maxRatio must be at least 1').max(1000);

/** The gate's configuration, part of the rollout spec's `gates`. */
export const healthRegressionSchema = z.strictObject({
  /** Off: the gate is not evaluated (documented as unsafe; for fleets that send no telemetry). */
  enabled: z.boolean().default(true),
  /** How far back telemetry is compared (the updated devices: only since their update). */
  windowS: z
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(86400),
  /**
   * A device's observation range shorter than this (updated less than this ago) says nothing yet
   * and is left out, on both sides.
   */
  minObservationS: z.number().int().min(1).max(86400).default(60),
  /** Devices with data needed on each side before the gate can pass. */
  minDevices: z.number().int().min(1).max(10_000).default(3),
  /** Device-hours of post-update data needed across the updated devices before it can pass. */
  minDeviceHours: z.number().min(0).max(1e6).default(1),
  /** Significance level of the one-sided tests. */
  alpha: z.number().gt(0).max(0.5).default(0.01),
  /** Largest tolerated ratio updated / old-version per metric; a metric left out is not compared. */
  metrics: z
    .partialRecord(z.enum(regressionMetrics), ratio)
    .default({ errors: 1.5, crashes: 1.5, reboots: 1.5, disconnects: 2, battery_drain: 1.25 }),
});
export type HealthRegressionConfig = z.infer<typeof healthRegressionSchema>;

/** One device's telemetry for one metric over its observation period. */
export interface MetricObservation {
  deviceId: string;
  /** Counters: occurrences in the period. */
  sum: number;
  /** Time covered by the device's telemetry windows in the period. */
  coveredMs: number;
  /** Gauges (battery): the first and last value in the period and when. */
  first?: { atMs: number; value: number };
  last?: { atMs: number; value: number };
}

export interface RegressionInput {
  /** Devices updated by the rollout, observed since their update. */
  updated: ReadonlyMap<RegressionMetric, readonly MetricObservation[]>;
  /** Devices of the rollout still on the old version (or the updated devices before their update). */
  baseline: ReadonlyMap<RegressionMetric, readonly MetricObservation[]>;
  /** What the baseline is, for the detail line: e.g. "old-version devices". */
  baselineLabel: string;
}

export interface RegressionResult {
  metric: RegressionMetric;
  /** updated / baseline (rates or median drains); null without enough data. */
  value: number | null;
  threshold: number;
  status: 'pass' | 'fail' | 'pending';
  /** One-sided p-value of "updated is worse"; null without enough data. */
  pValue: number | null;
  detail: string;
}

/** Battery drains are measured over at least this span per device. */
const MIN_DRAIN_SPAN_MS = 15 * 60_000;

/** One result per configured metric. */
export function evaluateHealthRegression(
  config: HealthRegressionConfig,
  input: RegressionInput,
): RegressionResult[] {
  const results: RegressionResult[] = [];
  for (const metric of regressionMetrics) {
    const maxRatio = config.metrics[metric];
    if (maxRatio === undefined) continue;
    const updated = input.updated.get(metric) ?? [];
    const baseline = input.baseline.get(metric) ?? [];
    results.push(
      metric === 'battery_drain'
        ? compareDrains(config, maxRatio, updated, baseline, input.baselineLabel)
        : compareRates(config, metric, maxRatio, updated, baseline, input.baselineLabel),
    );
  }
  return results;
}

function compareRates(
  config: HealthRegressionConfig,
  metric: CounterMetric,
  maxRatio: number,
  updatedObs: readonly MetricObservation[],
  baselineObs: readonly MetricObservation[],
  baselineLabel: string,
): RegressionResult {
  const updated = updatedObs.filter((o) => o.coveredMs > 0);
  const baseline = baselineObs.filter((o) => o.coveredMs > 0);
  const base = { metric, threshold: maxRatio } as const;
  if (updated.length === 0 && baseline.length === 0)
    return {
      ...base,
      value: null,
      pValue: null,
      status: 'pass',
      detail: `${metric}: not reported by any device`,
    };
  const k1 = total(updated, (o) => o.sum);
  const k0 = total(baseline, (o) => o.sum);
  const h1 = total(updated, (o) => o.coveredMs) / HOUR_MS;
  const h0 = total(baseline, (o) => o.coveredMs) / HOUR_MS;
  const shortage = missingData(config, updated.length, baseline.length, h1, baselineLabel);
  if (shortage !== undefined)
    return { ...base, value: null, pValue: null, status: 'pending', detail: `${metric}: ${shortage}` };
  const { value, pValue } = rateTest(k1, h1, k0, h0);
  // A regression must be broad: one device that errs a lot is that device's problem (peer
  // outlier detection reports it), not the release's. So it must hold without the worst device too.
  const worst = updated.reduce((a, b) => (b.sum / b.coveredMs > a.sum / a.coveredMs ? b : a));
  const without = rateTest(k1 - worst.sum, h1 - worst.coveredMs / HOUR_MS, k0, h0);
  const regressed = (r: { value: number; pValue: number }) => r.value > maxRatio && r.pValue < config.alpha;
  const status = regressed({ value, pValue }) && regressed(without) ? 'fail' : 'pass';
  const oneDevice =
    status === 'pass' && regressed({ value, pValue })
      ? `; carried by ${worst.deviceId} alone, so not counted`
      : '';
  const detail =
    `${metric}: ${(k1 / h1).toPrecision(3)}/device-hour on ${updated.length} updated devices vs ` +
    `${(k0 / h0).toPrecision(3)} on ${baseline.length} ${baselineLabel} ` +
    `(×${value.toFixed(2)}, at most ×${maxRatio}; p = ${pValue.toPrecision(2)}, alpha ${config.alpha}${oneDevice})`;
  return { ...base, value, pValue, status, detail };
}

function compareDrains(
  config: HealthRegressionConfig,
  maxRatio: number,
  updatedObs: readonly MetricObservation[],
  baselineObs: readonly MetricObservation[],
  baselineLabel: string,
): RegressionResult {
  const base = { metric: 'battery_drain', threshold: maxRatio } as const;
  const updated = drains(updatedObs);
  const baseline = drains(baselineObs);
  if (updated.length === 0 && baseline.length === 0)
    return {
      ...base,
      value: null,
      pValue: null,
      status: 'pass',
      detail: 'battery_drain: not reported by any device',
    };
  const h1 = total(updatedObs, (o) => o.coveredMs) / HOUR_MS;
  const shortage = missingData(config, updated.length, baseline.length, h1, baselineLabel);
  if (shortage !== undefined)
    return { ...base, value: null, pValue: null, status: 'pending', detail: `battery_drain: ${shortage}` };
  const m1 = median(updated);
  const m0 = median(baseline);
  // A fleet that barely drains (mains-powered, charging) has no meaningful ratio: compare
  // against at least 0.1 %/h.
  const value = Math.max(m1, 0) / Math.max(m0, 0.1);
  const pValue = mannWhitneyGreater(updated, baseline);
  const status = value > maxRatio && pValue < config.alpha ? 'fail' : 'pass';
  const detail =
    `battery_drain: median ${m1.toFixed(2)} %/h on ${updated.length} updated devices vs ` +
    `${m0.toFixed(2)} on ${baseline.length} ${baselineLabel} ` +
    `(×${value.toFixed(2)}, at most ×${maxRatio}; p = ${pValue.toPrecision(2)}, alpha ${config.alpha})`;
  return { ...base, value, pValue, status, detail };
}

function missingData(
  config: HealthRegressionConfig,
  updated: number,
  baseline: number,
  updatedHours: number,
  baselineLabel: string,
): string | undefined {
  if (updated < config.minDevices)
    return `waiting for data from ${config.minDevices} updated devices (${updated} so far)`;
  if (baseline < config.minDevices)
    return `waiting for data from ${config.minDevices} ${baselineLabel} (${baseline} so far)`;
  if (updatedHours < config.minDeviceHours)
    return `waiting for ${config.minDeviceHours} device-hours after the update (${updatedHours.toFixed(2)} so far)`;
  return undefined;
}

/** Battery drain per device in % per hour (positive = discharging). */
function drains(observations: readonly MetricObservation[]): number[] {
  const result: number[] = [];
  for (const o of observations) {
    if (o.first === undefined || o.last === undefined) continue;
    const spanMs = o.last.atMs - o.first.atMs;
    if (spanMs < MIN_DRAIN_SPAN_MS) continue;
    result.push((o.first.value - o.last.value) / (spanMs / HOUR_MS));
  }
  return result;
}

function total<T>(items: readonly T[], value: (item: T) => number): number {
  let sum = 0;
  for (const item of items) sum += value(item);
  return sum;
}
