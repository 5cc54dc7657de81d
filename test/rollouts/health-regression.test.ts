import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binomialUpperTail,
  evaluateHealthRegression,
  healthRegressionSchema,
  mannWhitneyGreater,
  normalUpperTail,
  type MetricObservation,
  type RegressionMetric,
} from '../../src/ota/rollouts/health-regression.ts';

const HOUR = 3_600_000;
const config = healthRegressionSchema.parse({});

/** A deterministic pseudo-random generator (mulberry32), so the fleets are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Poisson sample by inversion (small means). */
function poisson(mean: number, random: () => number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random();
  while (u > cumulative && k < 10_000) {
    k += 1;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

function counters(
  devices: number,
  ratePerHour: number,
  hours: number,
  random: () => number,
): MetricObservation[] {
  return Array.from({ length: devices }, (_, i) => ({
    deviceId: `d${i}`,
    sum: poisson(ratePerHour * hours, random),
    coveredMs: hours * HOUR,
  }));
}

function battery(
  devices: number,
  drainPerHour: number,
  hours: number,
  random: () => number,
): MetricObservation[] {
  return Array.from({ length: devices }, (_, i) => {
    const drain = drainPerHour * (0.8 + 0.4 * random());
    return {
      deviceId: `d${i}`,
      sum: 0,
      coveredMs: hours * HOUR,
      first: { atMs: 0, value: 90 },
      last: { atMs: hours * HOUR, value: 90 - drain * hours },
    };
  });
}

function input(
  updated: Partial<Record<RegressionMetric, MetricObservation[]>>,
  baseline: Partial<Record<RegressionMetric, MetricObservation[]>>,
) {
  return {
    updated: new Map(Object.entries(updated)) as Map<RegressionMetric, MetricObservation[]>,
    baseline: new Map(Object.entries(baseline)) as Map<RegressionMetric, MetricObservation[]>,
    baselineLabel: 'old-version devices',
  };
}

const byMetric = (results: ReturnType<typeof evaluateHealthRegression>, metric: RegressionMetric) =>
  results.find((r) => r.metric === metric)!;

describe('statistics', () => {
  it('binomial upper tail matches exact values', () => {
    // P(X >= 8 | n=10, p=0.5) = (45 + 10 + 1) / 1024
    assert.ok(Math.abs(binomialUpperTail(8, 10, 0.5) - 56 / 1024) < 1e-12);
    assert.equal(binomialUpperTail(0, 10, 0.3), 1);
    assert.equal(binomialUpperTail(11, 10, 0.3), 0);
    // Large n: the tail at the mean is about one half.
    const atMean = binomialUpperTail(50_000, 100_000, 0.5);
    assert.ok(atMean > 0.49 && atMean < 0.51, String(atMean));
    assert.equal(binomialUpperTail(10, 1_000_000, 0.5), 1);
  });

  it('normal upper tail', () => {
    assert.ok(Math.abs(normalUpperTail(0) - 0.5) < 1e-7);
    assert.ok(Math.abs(normalUpperTail(1.959964) - 0.025) < 1e-6);
    assert.ok(Math.abs(normalUpperTail(-1.959964) - 0.975) < 1e-6);
  });

  it('Mann-Whitney: clearly larger samples give a small p, equal ones do not', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 8];
    const high = [11, 12, 13, 14, 15, 16, 17, 18];
    assert.ok(mannWhitneyGreater(high, low) < 0.001);
    assert.ok(mannWhitneyGreater(low, high) > 0.99);
    assert.ok(mannWhitneyGreater([1, 1, 1], [1, 1, 1]) >= 0.5);
  });
});

describe('the health-regression gate', () => {
  it('passes a release that behaves like the old one', () => {
    const random = rng(1);
    const results = evaluateHealthRegression(
      config,
      input(
        { errors: counters(20, 0.5, 6, random), battery_drain: battery(20, 1, 6, random) },
        { errors: counters(200, 0.5, 6, random), battery_drain: battery(200, 1, 6, random) },
      ),
    );
    assert.equal(byMetric(results, 'errors').status, 'pass', byMetric(results, 'errors').detail);
    assert.equal(byMetric(results, 'battery_drain').status, 'pass');
    // Metrics nobody reports pass and say so.
    assert.equal(byMetric(results, 'crashes').status, 'pass');
    assert.match(byMetric(results, 'crashes').detail, /not reported/);
  });

  it('fails a release that raises the error rate tenfold, naming both rates', () => {
    const random = rng(2);
    const results = evaluateHealthRegression(
      config,
      input({ errors: counters(10, 5, 2, random) }, { errors: counters(100, 0.5, 2, random) }),
    );
    const errors = byMetric(results, 'errors');
    assert.equal(errors.status, 'fail');
    assert.ok(errors.value! > 5, String(errors.value));
    assert.ok(errors.pValue! < 1e-6);
    assert.match(errors.detail, /on 10 updated devices vs .* on 100 old-version devices/);
  });

  it('fails a release that doubles battery drain', () => {
    const random = rng(3);
    const results = evaluateHealthRegression(
      config,
      input({ battery_drain: battery(12, 2, 4, random) }, { battery_drain: battery(50, 1, 4, random) }),
    );
    assert.equal(byMetric(results, 'battery_drain').status, 'fail');
  });

  it('does not fail on a large but insignificant difference (one error on few devices)', () => {
    const results = evaluateHealthRegression(
      config,
      input(
        { errors: [1, 0, 0].map((sum, i) => ({ deviceId: `u${i}`, sum, coveredMs: HOUR })) },
        { errors: Array.from({ length: 50 }, (_, i) => ({ deviceId: `b${i}`, sum: 0, coveredMs: HOUR })) },
      ),
    );
    assert.equal(byMetric(results, 'errors').status, 'pass', byMetric(results, 'errors').detail);
  });

  it('does not blame the release for one device that errs a lot', () => {
    const random = rng(5);
    const updated = counters(10, 0.5, 4, random);
    updated[3] = { deviceId: 'noisy', sum: 400, coveredMs: 4 * HOUR };
    const results = evaluateHealthRegression(
      config,
      input({ errors: updated }, { errors: counters(100, 0.5, 4, random) }),
    );
    const errors = byMetric(results, 'errors');
    assert.equal(errors.status, 'pass', errors.detail);
    assert.match(errors.detail, /carried by noisy alone/);
  });

  it('waits for enough updated devices and device-hours', () => {
    const few = evaluateHealthRegression(
      config,
      input(
        { errors: [{ deviceId: 'u', sum: 9, coveredMs: HOUR }] },
        { errors: Array.from({ length: 10 }, (_, i) => ({ deviceId: `b${i}`, sum: 0, coveredMs: HOUR })) },
      ),
    );
    assert.equal(byMetric(few, 'errors').status, 'pending');
    assert.match(byMetric(few, 'errors').detail, /3 updated devices \(1 so far\)/);
    // Updated devices that stopped reporting while the old ones report: pending, not pass.
    const silent = evaluateHealthRegression(
      config,
      input(
        {},
        { errors: Array.from({ length: 10 }, (_, i) => ({ deviceId: `b${i}`, sum: 1, coveredMs: HOUR })) },
      ),
    );
    assert.equal(byMetric(silent, 'errors').status, 'pending');
  });

  it('a false-alarm rate near alpha on healthy fleets (1000 simulated comparisons)', () => {
    const random = rng(4);
    let failures = 0;
    for (let run = 0; run < 1000; run += 1) {
      const results = evaluateHealthRegression(
        { ...config, metrics: { errors: 1.5 } },
        input({ errors: counters(10, 0.3, 4, random) }, { errors: counters(100, 0.3, 4, random) }),
      );
      if (byMetric(results, 'errors').status === 'fail') failures += 1;
    }
    // Both the significance and the ratio must be exceeded: expect well under 1 %.
    assert.ok(failures <= 10, `${failures} false alarms in 1000`);
  });

  it('validates its configuration', () => {
    assert.equal(healthRegressionSchema.safeParse({ metrics: { errors: 0.5 } }).success, false);
    assert.equal(healthRegressionSchema.safeParse({ metrics: { temperature: 2 } }).success, false);
    assert.equal(healthRegressionSchema.safeParse({ alpha: 0 }).success, false);
    assert.deepEqual(healthRegressionSchema.parse(healthRegressionSchema.parse({})), config);
  });
});
