import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorRateSchema } from '../../src/anomaly/anomaly-config.ts';
import { findErrorRateChanges } from '../../src/anomaly/error-rate-change.ts';
import type { GroupCounterSum } from '../../src/store/anomaly-types.ts';
import { seeded } from './random-data.ts';

const config = errorRateSchema.parse({});
const g = (model: string, firmware: string, sum: number, samples: number): GroupCounterSum => ({
  model,
  firmware,
  sum,
  samples,
});

describe('error-rate change per group', () => {
  // Baselines: 24 h of 100 devices at 60 samples/h = 144,000 samples, 0.01 errors per sample.
  const baseline = [
    g('m1', '1.0', 1440, 144_000),
    g('m1', '1.1', 1440, 144_000),
    g('m2', '3.0', 1440, 144_000),
  ];
  const windowAt = (rate10: number, rate11 = 0.01, rate30 = 0.01) => [
    g('m1', '1.0', rate10 * 6000, 6000),
    g('m1', '1.1', rate11 * 6000, 6000),
    g('m2', '3.0', rate30 * 6000, 6000),
  ];
  const cases: Array<{ name: string; window: GroupCounterSum[]; keys: string[] }> = [
    { name: 'the same rate', window: windowAt(0.01), keys: [] },
    { name: 'a bit more (×1.5): below minRatio', window: windowAt(0.015), keys: [] },
    {
      name: 'three times the errors on one firmware: that firmware, not its model too',
      window: windowAt(0.03),
      keys: ['firmware=1.0'],
    },
    {
      name: 'both firmware of a model: each firmware',
      window: windowAt(0.03, 0.03),
      keys: ['firmware=1.0', 'firmware=1.1'],
    },
    { name: 'fewer errors is no anomaly', window: windowAt(0.001, 0.001, 0.001), keys: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(
        findErrorRateChanges(config, c.window, baseline, new Set())
          .map((x) => x.key)
          .sort(),
        c.keys,
      );
    });

  it('a model is named when the change is spread over firmware each too small to tell', () => {
    const base = Array.from({ length: 10 }, (_, i) => g('m9', `9.${i}`, 20, 2000));
    // Each firmware: 3 errors (below minErrors) in 100 samples; the model: 30 vs 1 expected.
    const window = Array.from({ length: 10 }, (_, i) => g('m9', `9.${i}`, 3, 100));
    assert.deepEqual(
      findErrorRateChanges(config, window, base, new Set()).map((x) => x.key),
      ['model=m9'],
    );
  });

  it('needs minErrors in the window and minBaselineSamples in the baseline', () => {
    assert.deepEqual(
      findErrorRateChanges(config, [g('m', '1', 15, 100)], [g('m', '1', 10, 1000)], new Set()),
      [],
    );
    assert.deepEqual(
      findErrorRateChanges(config, [g('m', '1', 60, 100)], [g('m', '1', 1, 100)], new Set()),
      [],
    );
  });

  it('holds an open change until the ratio falls below clearRatio', () => {
    const active = new Set(['firmware=1.0']);
    assert.deepEqual(
      findErrorRateChanges(config, windowAt(0.015), baseline, active).map((x) => x.key),
      ['firmware=1.0'],
    );
    assert.deepEqual(findErrorRateChanges(config, windowAt(0.012), baseline, active), []);
  });

  it('false positives: Poisson noise around an unchanged rate (seed 5)', (t) => {
    const random = seeded(5);
    let found = 0;
    const runs = 5000;
    for (let r = 0; r < runs; r += 1) {
      // 20 groups from 10 to 2,000 samples an hour-window; 24 windows of baseline; 0.01 errors/sample.
      const window: GroupCounterSum[] = [];
      const base: GroupCounterSum[] = [];
      for (let i = 0; i < 20; i += 1) {
        const samples = 10 * 2 ** (i % 8);
        window.push(g(`m${i}`, `f${i}`, random.poisson(0.01 * samples), samples));
        base.push(g(`m${i}`, `f${i}`, random.poisson(0.01 * samples * 24), samples * 24));
      }
      found += findErrorRateChanges(config, window, base, new Set()).length;
    }
    t.diagnostic(`${found} changes in ${runs * 20 * 2} group-evaluations (firmware and model)`);
    assert.equal(found, 0);
  });
});
