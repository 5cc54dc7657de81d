import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCeilingMs, nextDelayMs } from '../../src/agent/backoff.ts';

const policy = { initialMs: 1000, maxMs: 60_000 };

describe('backoff', () => {
  it('doubles the ceiling per attempt up to maxMs', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffCeilingMs(attempt, policy)),
      [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000],
    );
  });

  it('applies full jitter: the delay is random × ceiling', () => {
    assert.equal(nextDelayMs(0, { ...policy, random: () => 0 }), 0);
    assert.equal(nextDelayMs(0, { ...policy, random: () => 0.5 }), 500);
    assert.equal(nextDelayMs(3, { ...policy, random: () => 0.25 }), 2000);
    assert.equal(nextDelayMs(3, { ...policy, random: () => 0.999 }), 7992);
  });

  it('stays within [0, maxMs] for huge attempts and out-of-range randoms', () => {
    assert.equal(nextDelayMs(10_000, { ...policy, random: () => 0.5 }), 30_000);
    assert.equal(nextDelayMs(2, { ...policy, random: () => 1.7 }), 4000);
    assert.equal(nextDelayMs(2, { ...policy, random: () => -3 }), 0);
    assert.equal(nextDelayMs(-1, { ...policy, random: () => 1 }), 1000);
  });

  it('spreads a fleet over the window instead of retrying in lock-step', () => {
    let state = 1;
    // A tiny LCG: deterministic, but not constant.
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    const delays = Array.from({ length: 1000 }, () => nextDelayMs(4, { ...policy, random }));
    assert.ok(delays.every((d) => d >= 0 && d <= 16_000));
    const buckets = new Set(delays.map((d) => Math.floor(d / 1600)));
    assert.equal(buckets.size, 10);
  });
});
