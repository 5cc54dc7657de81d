import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerOutlierSchema, type PeerMetric } from '../../src/anomaly/anomaly-config.ts';
import {
  advanceStreaks,
  confirmedOutliers,
  findPeerOutliers,
  peerValues,
  type PeerValue,
} from '../../src/anomaly/peer-outliers.ts';
import type { PeerSample } from '../../src/store/anomaly-types.ts';
import { seeded } from './random-data.ts';

const config = peerOutlierSchema.parse({});
const HOUR = 3_600_000;

function group(metric: PeerMetric, values: readonly number[], model = 'm', firmware = '1.0'): PeerValue[] {
  return values.map((value, i) => ({ deviceId: `d${i}`, model, firmware, metric, value }));
}

/** 24 ordinary values around 20 (spread ±2) plus the given ones as d24, d25, ... */
const peersWith = (...extra: number[]) => [...Array.from({ length: 24 }, (_, i) => 18 + (i % 5)), ...extra];

describe('peer outliers: robust z per group and metric', () => {
  const cases: Array<{ name: string; metric: PeerMetric; values: number[]; outliers: string[] }> = [
    { name: 'a far high temperature', metric: 'temperature_c', values: peersWith(60), outliers: ['d24'] },
    {
      name: 'a far low temperature (both directions count)',
      metric: 'temperature_c',
      values: peersWith(-20),
      outliers: ['d24'],
    },
    {
      name: 'a battery draining far faster',
      metric: 'battery_drain',
      values: peersWith(90),
      outliers: ['d24'],
    },
    {
      name: 'a battery draining slower is no fault',
      metric: 'battery_drain',
      values: peersWith(-50),
      outliers: [],
    },
    { name: 'a weak signal', metric: 'signal_dbm', values: peersWith(-60), outliers: ['d24'] },
    { name: 'a strong signal is no fault', metric: 'signal_dbm', values: peersWith(90), outliers: [] },
    { name: 'within five robust deviations', metric: 'memory_used_pct', values: peersWith(27), outliers: [] },
    {
      name: 'several outliers do not hide each other',
      metric: 'memory_used_pct',
      values: peersWith(80, 85, 90),
      outliers: ['d24', 'd25', 'd26'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const { outliers } = findPeerOutliers(config, group(c.metric, c.values));
      assert.deepEqual(outliers.map((o) => o.deviceId).sort(), c.outliers);
    });

  it('judges a group only with minPeers devices', () => {
    const values = group('temperature_c', [...peersWith(60)].slice(5));
    assert.equal(values.length, 20);
    assert.equal(findPeerOutliers({ ...config, minPeers: 21 }, values).groupsJudged, 0);
    assert.equal(findPeerOutliers({ ...config, minPeers: 20 }, values).outliers.length, 1);
  });

  it('keeps peer groups apart: a model or firmware of its own is no outlier', () => {
    const values = [
      ...group('temperature_c', peersWith()),
      ...group('temperature_c', peersWith(), 'm', '2.0').map((v) => ({
        ...v,
        deviceId: `x${v.deviceId}`,
        value: v.value + 40,
      })),
    ];
    const { outliers, groupsJudged } = findPeerOutliers(config, values);
    assert.equal(groupsJudged, 2);
    assert.deepEqual(outliers, []);
  });

  it('MAD = 0: identical peers use the mean absolute deviation, then the metric floor', () => {
    // 24 peers at exactly 20 °C: a device at 22 °C is 2 / 0.5 (floor) = 4 deviations away; 23 °C is 6.
    const same = Array.from({ length: 24 }, () => 20);
    assert.deepEqual(findPeerOutliers(config, group('temperature_c', [...same, 22])).outliers, []);
    const [outlier] = findPeerOutliers(config, group('temperature_c', [...same, 23])).outliers;
    assert.equal(outlier?.deviceId, 'd24');
    assert.equal(outlier.median, 20);
  });

  it('errors: the rate must also be improbable under Poisson chance at the median rate', () => {
    // Peers: 2 errors in one hour each (MAD 0). One device with 9 errors: z is large against the
    // floor √(2/1), but P(X ≥ 9 | 2) ≈ 2e-4 is not improbable enough; 20 errors is.
    const peers: PeerValue[] = Array.from({ length: 24 }, (_, i) => ({
      deviceId: `d${i}`,
      model: 'm',
      firmware: '1',
      metric: 'errors',
      value: 2,
      occurrences: 2,
      hours: 1,
    }));
    const withDevice = (n: number) => [...peers, { ...peers[0]!, deviceId: 'x', value: n, occurrences: n }];
    assert.deepEqual(findPeerOutliers(config, withDevice(9)).outliers, []);
    assert.deepEqual(
      findPeerOutliers(config, withDevice(20)).outliers.map((o) => o.deviceId),
      ['x'],
    );
  });

  it('derives the metrics from window summaries', () => {
    const sample = (metric: string, o: Partial<PeerSample>): PeerSample => ({
      deviceId: 'd',
      model: 'm',
      firmware: 'f',
      metric,
      sum: 0,
      count: 4,
      coveredMs: HOUR,
      firstAvg: 0,
      firstAtMs: 0,
      lastAvg: 0,
      lastAtMs: HOUR,
      ...o,
    });
    const values = peerValues(
      [
        sample('battery_pct', { firstAvg: 80, lastAvg: 78, firstAtMs: 0, lastAtMs: HOUR }),
        sample('temperature_c', { sum: 100, count: 4 }),
        sample('errors', { sum: 6, coveredMs: 2 * HOUR }),
        // Readings too close together for a drain.
        { ...sample('battery_pct', { firstAvg: 80, lastAvg: 70, lastAtMs: HOUR / 4 }), deviceId: 'short' },
      ],
      ['battery_drain', 'temperature_c', 'errors'],
      HOUR,
    );
    assert.deepEqual(
      values.map((v) => [v.deviceId, v.metric, v.value]),
      [
        ['d', 'battery_drain', 2],
        ['d', 'temperature_c', 25],
        ['d', 'errors', 3],
      ],
    );
  });
});

describe('peer outliers: persistence', () => {
  it('confirms an outlier after `persistence` consecutive evaluations; a break starts over', () => {
    const outlier = findPeerOutliers(config, group('temperature_c', peersWith(60))).outliers;
    let streaks = new Map<string, number>();
    const confirmedAfter: number[] = [];
    for (const [i, found] of [outlier, outlier, [], outlier, outlier, outlier].entries()) {
      streaks = advanceStreaks(streaks, found);
      if (confirmedOutliers(found, streaks, 3).has('d24')) confirmedAfter.push(i);
    }
    assert.deepEqual(confirmedAfter, [5]);
  });
});

describe('peer outliers: false positives on healthy random data (seed 7)', () => {
  // 2,000 evaluations of 4 peer groups of 50 devices; each evaluation draws fresh values.
  function measure(draw: (r: ReturnType<typeof seeded>) => number, metric: PeerMetric) {
    const random = seeded(7);
    let streaks = new Map<string, number>();
    let raw = 0;
    let confirmed = 0;
    let judged = 0;
    for (let e = 0; e < 2000; e += 1) {
      const values: PeerValue[] = [];
      for (let g = 0; g < 4; g += 1)
        for (let d = 0; d < 50; d += 1)
          values.push({ deviceId: `g${g}d${d}`, model: 'm', firmware: `f${g}`, metric, value: draw(random) });
      judged += values.length;
      const { outliers } = findPeerOutliers(config, values);
      raw += outliers.length;
      streaks = advanceStreaks(streaks, outliers);
      confirmed += confirmedOutliers(outliers, streaks, config.persistence).size;
    }
    return { raw: raw / judged, confirmed, judged };
  }

  it('normal data: outliers on fewer than 1 in 10,000 device-evaluations, no alert', (t) => {
    const r = measure((random) => 25 + 3 * random.normal(), 'temperature_c');
    t.diagnostic(
      `normal: ${r.raw} raw outliers per device-evaluation over ${r.judged}; ${r.confirmed} confirmed`,
    );
    assert.ok(r.raw < 1e-4);
    assert.equal(r.confirmed, 0);
  });

  it('skewed data (log-normal battery drain, σ = 0.5): rare raw outliers, no alert', (t) => {
    const r = measure((random) => Math.exp(Math.log(0.5) + 0.5 * random.normal()), 'battery_drain');
    t.diagnostic(
      `log-normal: ${r.raw} raw outliers per device-evaluation over ${r.judged}; ${r.confirmed} confirmed`,
    );
    assert.ok(r.raw < 1e-2);
    assert.equal(r.confirmed, 0);
  });

  it('Poisson error counts (mean 5 per device-hour): no alert', (t) => {
    const random = seeded(11);
    let raw = 0;
    let judged = 0;
    for (let e = 0; e < 2000; e += 1) {
      const values: PeerValue[] = Array.from({ length: 50 }, (_, d) => {
        const n = random.poisson(5);
        return {
          deviceId: `d${d}`,
          model: 'm',
          firmware: 'f',
          metric: 'errors',
          value: n,
          occurrences: n,
          hours: 1,
        };
      });
      judged += values.length;
      raw += findPeerOutliers(config, values).outliers.length;
    }
    t.diagnostic(`poisson: ${raw / judged} raw outliers per device-evaluation over ${judged}`);
    assert.ok(raw / judged < 1e-4);
  });
});
