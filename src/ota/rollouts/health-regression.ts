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

/**
 * Rate ratio (half an occurrence added on each side: finite when the baseline saw none) and the
 * exact one-sided p-value: given k1 + k0 occurrences, k1 is Binomial(k1 + k0, h1 / (h1 + h0))
 * when both sides have the same rate.
 */
function rateTest(k1: number, h1: number, k0: number, h0: number): { value: number; pValue: number } {
  if (h1 <= 0) return { value: 1, pValue: 1 };
  return {
    value: (k1 + 0.5) / h1 / ((k0 + 0.5) / h0),
    pValue: binomialUpperTail(k1, k1 + k0, h1 / (h1 + h0)),
  };
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

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Natural log of n choose k. */
function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const LOG_FACTORIALS: number[] = [0];
for (let i = 1; i < 256; i += 1) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1]! + Math.log(i));

/** ln(n!) — a table below 256, Stirling's series above (error < 1e-10). */
function logFactorial(n: number): number {
  if (n < 256) return LOG_FACTORIALS[n]!;
  const x = n + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p): exact, summed in log space from k upwards (terms decrease
 * fast past the mode; stops once they no longer change the sum).
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // Ten standard deviations below the mean: the tail is 1 to double precision.
  if (k < n * p - 10 * Math.sqrt(n * p * (1 - p))) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  const terms: number[] = [];
  let maxTerm = -Infinity;
  for (let i = k; i <= n; i += 1) {
    const term = logChoose(n, i) + i * logP + (n - i) * logQ;
    terms.push(term);
    if (term > maxTerm) maxTerm = term;
    // Past the mode the terms only shrink: stop when they are negligible.
    if (i > n * p && term < maxTerm - 40) break;
  }
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - maxTerm);
  return Math.min(1, Math.exp(maxTerm) * sum);
}

/**
 * One-sided Mann-Whitney U test that `xs` tend to be larger than `ys`: the normal approximation
 * with a tie correction and a continuity correction.
 */
export function mannWhitneyGreater(xs: readonly number[], ys: readonly number[]): number {
  const n1 = xs.length;
  const n2 = ys.length;
  if (n1 === 0 || n2 === 0) return 1;
  const all = [...xs.map((v) => ({ v, x: true })), ...ys.map((v) => ({ v, x: false }))].sort(
    (a, b) => a.v - b.v,
  );
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j += 1;
    const rank = (i + j) / 2 + 1;
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    for (let t = i; t <= j; t += 1) if (all[t]!.x) rankSumX += rank;
    i = j + 1;
  }
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return normalUpperTail(z);
}

/** P(Z ≥ z) for a standard normal Z (Abramowitz-Stegun 7.1.26 via erfc; error < 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
