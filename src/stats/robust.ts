/**
 * Robust location and scale: the median, the median absolute deviation (MAD) and the robust
 * z-score built on them (Iglewicz and Hoaglin's modified z-score). Pure.
 */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median absolute deviation from `center` (the median when not given); 0 for no values. */
export function medianAbsoluteDeviation(values: readonly number[], center = median(values)): number {
  if (values.length === 0) return 0;
  return median(values.map((v) => Math.abs(v - center)));
}

/** Mean absolute deviation from `center`: the fallback scale when more than half the values are equal. */
export function meanAbsoluteDeviation(values: readonly number[], center: number): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += Math.abs(v - center);
  return sum / values.length;
}

/** 1 / Φ⁻¹(0.75): MAD × this estimates the standard deviation of normal data. */
export const MAD_TO_SD = 1.4826;
/** √(π/2): mean absolute deviation × this estimates the standard deviation of normal data. */
export const MEAN_AD_TO_SD = 1.2533;

/**
 * The robust spread of `values` around their median, in standard-deviation units:
 * 1.4826 × MAD, or, when the MAD is 0 (more than half the values equal), 1.2533 × the mean
 * absolute deviation (Iglewicz and Hoaglin); 0 when every value is equal.
 */
export function robustScale(values: readonly number[], center = median(values)): number {
  const mad = medianAbsoluteDeviation(values, center);
  if (mad > 0) return MAD_TO_SD * mad;
  return MEAN_AD_TO_SD * meanAbsoluteDeviation(values, center);
}

/**
 * The robust spread of one side of `values` (those at or above the median for `high`, at or below
 * for `low`) — the "double MAD": skewed data (battery drain, error counts) has a long upper tail
 * that a single MAD, dominated by the short side, would call outlying.
 */
export function sidedRobustScale(values: readonly number[], center: number, side: 'high' | 'low'): number {
  const half = values.filter((v) => (side === 'high' ? v >= center : v <= center));
  return robustScale(half, center);
}
