import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAllowance } from '../../src/ota/rollouts/rate-limit.ts';

describe('startAllowance', () => {
  it('allows everything without a limit', () => {
    assert.deepEqual(startAllowance(null, [1, 2, 3], 10), {
      allowed: Number.POSITIVE_INFINITY,
      nextSlotAtMs: null,
    });
  });

  it('allows what is left of the limit in the last minute, ignoring older starts', () => {
    assert.deepEqual(startAllowance(10, [], 100_000), { allowed: 10, nextSlotAtMs: null });
    assert.deepEqual(startAllowance(10, [40_000, 50_000, 99_000], 100_000), {
      allowed: 8,
      nextSlotAtMs: null,
    });
  });

  it('says when the next slot frees up when the minute is full', () => {
    assert.deepEqual(startAllowance(3, [90_000, 50_000, 70_000], 100_000), {
      allowed: 0,
      nextSlotAtMs: 110_000,
    });
    assert.deepEqual(startAllowance(3, [90_000, 50_000, 70_000], 110_000), {
      allowed: 1,
      nextSlotAtMs: null,
    });
  });

  it('waits for enough starts to leave the window after the limit was lowered', () => {
    assert.deepEqual(startAllowance(2, [50_000, 60_000, 70_000, 80_000], 100_000), {
      allowed: 0,
      nextSlotAtMs: 130_000,
    });
  });
});
