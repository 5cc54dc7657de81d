/**
 * One metric's samples within one window, reduced to min/max/sum/count/last as they arrive, so a
 * window costs the same memory whatever its sample rate. Pure.
 */
import type { Aggregate } from '../../contracts/telemetry-messages.ts';

export interface Accumulator {
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

/** Adds one sample; returns the accumulator (a new one when `acc` is undefined). */
export function addSample(acc: Accumulator | undefined, value: number): Accumulator {
  if (!acc) return { min: value, max: value, sum: value, count: 1, last: value };
  acc.min = Math.min(acc.min, value);
  acc.max = Math.max(acc.max, value);
  acc.sum += value;
  acc.count += 1;
  acc.last = value;
  return acc;
}

/**
 * The wire form. `avg = sum / count`, clamped into [min, max]: floating-point rounding can put
 * the quotient one ulp outside (three samples of 0.1 average to 0.10000000000000002), which the
 * schema would refuse.
 */
export function toAggregate(acc: Accumulator): Aggregate {
  const avg = Math.min(acc.max, Math.max(acc.min, acc.sum / acc.count));
  return { min: acc.min, max: acc.max, avg, count: acc.count, last: acc.last };
}
