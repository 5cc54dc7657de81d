/**
 * Error-rate change of a group (a firmware version, a hardware model): the rate of the last
 * window against the group's own baseline just before it, per sample. Both counts are Poisson
 * with exposure = samples, so the test is the exact conditional one the rollouts' health gate
 * uses (stats/binomial.ts): given k1 + k0 errors, k1 is Binomial(k1 + k0, n1 / (n1 + n0)) when
 * the rate did not change. A change is reported when it is large (ratio ≥ minRatio), certain
 * (p < alpha) and not tiny (≥ minErrors in the window); it clears once the ratio is below
 * clearRatio. Pure; docs/anomaly-detection.md.
 *
 * Firmware groups are judged first. A model is judged without the firmware versions that are
 * reported already, so one bad release is one alert, not also one for its model.
 */
import { poissonRateTest } from '../stats/binomial.ts';
import type { GroupCounterSum } from '../store/anomaly-types.ts';
import type { ErrorRateConfig, GroupDimension } from './anomaly-config.ts';

export interface GroupRateChange {
  /** `firmware=2.4.1`, `model=tracker-2`: the alert's group subject. */
  key: string;
  dimension: GroupDimension;
  value: string;
  windowErrors: number;
  windowSamples: number;
  baselineErrors: number;
  baselineSamples: number;
  /** Window rate / baseline rate (half an error added on each side). */
  ratio: number;
  pValue: number;
}

interface Totals {
  k1: number;
  n1: number;
  k0: number;
  n0: number;
}

export const groupKey = (dimension: GroupDimension, value: string): string => `${dimension}=${value}`;

/**
 * The groups whose error rate changed: newly (all criteria) or still (an `active` key whose ratio is
 * at least clearRatio). Active keys not returned have cleared.
 */
export function findErrorRateChanges(
  config: Pick<
    ErrorRateConfig,
    'alpha' | 'minRatio' | 'clearRatio' | 'minErrors' | 'minBaselineSamples' | 'dimensions'
  >,
  window: readonly GroupCounterSum[],
  baseline: readonly GroupCounterSum[],
  active: ReadonlySet<string>,
): GroupRateChange[] {
  const changes: GroupRateChange[] = [];
  const judge = (dimension: GroupDimension, value: string, t: Totals): GroupRateChange | undefined => {
    const key = groupKey(dimension, value);
    if (t.n1 <= 0 || t.n0 <= 0) return undefined;
    const { value: ratio, pValue } = poissonRateTest(Math.round(t.k1), t.n1, Math.round(t.k0), t.n0);
    const change = {
      key,
      dimension,
      value,
      windowErrors: t.k1,
      windowSamples: t.n1,
      baselineErrors: t.k0,
      baselineSamples: t.n0,
      ratio,
      pValue,
    };
    if (active.has(key)) return ratio >= config.clearRatio ? change : undefined;
    const changed =
      ratio >= config.minRatio &&
      pValue < config.alpha &&
      t.k1 >= config.minErrors &&
      t.n0 >= config.minBaselineSamples;
    return changed ? change : undefined;
  };

  const reportedFirmware = new Set<string>();
  if (config.dimensions.includes('firmware')) {
    for (const [value, t] of totalsBy(window, baseline, (g) => g.firmware)) {
      const change = judge('firmware', value, t);
      if (change === undefined) continue;
      changes.push(change);
      reportedFirmware.add(value);
    }
  }
  if (config.dimensions.includes('model')) {
    const unexplained = (g: GroupCounterSum) => !reportedFirmware.has(g.firmware);
    for (const [value, t] of totalsBy(
      window.filter(unexplained),
      baseline.filter(unexplained),
      (g) => g.model,
    )) {
      const change = judge('model', value, t);
      if (change !== undefined) changes.push(change);
    }
  }
  return changes;
}

function totalsBy(
  window: readonly GroupCounterSum[],
  baseline: readonly GroupCounterSum[],
  keyOf: (g: GroupCounterSum) => string,
): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  const at = (key: string): Totals => {
    let t = totals.get(key);
    if (t === undefined) totals.set(key, (t = { k1: 0, n1: 0, k0: 0, n0: 0 }));
    return t;
  };
  for (const g of window) {
    const t = at(keyOf(g));
    t.k1 += g.sum;
    t.n1 += g.samples;
  }
  for (const g of baseline) {
    const t = at(keyOf(g));
    t.k0 += g.sum;
    t.n0 += g.samples;
  }
  return totals;
}
