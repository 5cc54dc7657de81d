import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialUpperTail, poissonRateTest, poissonUpperTail } from '../../src/stats/binomial.ts';
import { median, medianAbsoluteDeviation, robustScale } from '../../src/stats/robust.ts';

const close = (actual: number, expected: number, relative = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${actual} ≈ ${expected}`);

describe('robust statistics', () => {
  it('median, MAD and the robust scale', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(medianAbsoluteDeviation([1, 2, 3, 4, 100]), 1);
    close(robustScale([1, 2, 3, 4, 100]), 1.4826);
  });

  it('falls back to the mean absolute deviation when more than half the values are equal', () => {
    // Median 0, MAD 0; mean absolute deviation 10 / 5 = 2.
    close(robustScale([0, 0, 0, 0, 10]), 1.2533 * 2);
    assert.equal(robustScale([5, 5, 5]), 0);
  });
});

describe('exact count tests', () => {
  it('Poisson upper tail', () => {
    assert.equal(poissonUpperTail(0, 3), 1);
    close(poissonUpperTail(1, 2), 1 - Math.exp(-2));
    // P(X ≥ 3 | 1) = 1 − e⁻¹ (1 + 1 + 1/2)
    close(poissonUpperTail(3, 1), 1 - Math.exp(-1) * 2.5);
    assert.equal(poissonUpperTail(5, 0), 0);
    assert.ok(poissonUpperTail(400, 100) < 1e-50);
  });

  it('the rate test is the binomial tail of the window share', () => {
    const { value, pValue } = poissonRateTest(30, 10, 10, 10);
    close(value, 30.5 / 10.5);
    close(pValue, binomialUpperTail(30, 40, 0.5));
  });
});
