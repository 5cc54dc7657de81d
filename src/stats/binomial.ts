/**
 * Exact tests on counts: the binomial upper tail, the Poisson rate comparison built on it, and the
 * Poisson upper tail. Pure; shared by the rollouts' health-regression gate and anomaly detection.
 */

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
 * Rate ratio (half an occurrence added on each side: finite when the baseline saw none) and the
 * exact one-sided p-value: given k1 + k0 occurrences, k1 is Binomial(k1 + k0, h1 / (h1 + h0))
 * when both sides have the same rate.
 */
export function poissonRateTest(
  k1: number,
  h1: number,
  k0: number,
  h0: number,
): { value: number; pValue: number } {
  if (h1 <= 0) return { value: 1, pValue: 1 };
  return {
    value: (k1 + 0.5) / h1 / ((k0 + 0.5) / h0),
    pValue: binomialUpperTail(k1, k1 + k0, h1 / (h1 + h0)),
  };
}

/**
 * P(X ≥ k) for X ~ Poisson(mean): exact, summed in log space from k upwards (stops once the
 * terms no longer change the sum).
 */
export function poissonUpperTail(k: number, mean: number): number {
  if (k <= 0) return 1;
  if (mean <= 0) return 0;
  // Ten standard deviations below the mean: the tail is 1 to double precision.
  if (k < mean - 10 * Math.sqrt(mean)) return 1;
  const logMean = Math.log(mean);
  let maxTerm = -Infinity;
  const terms: number[] = [];
  for (let i = k; ; i += 1) {
    const term = i * logMean - mean - logFactorial(i);
    terms.push(term);
    if (term > maxTerm) maxTerm = term;
    if (i > mean && term < maxTerm - 40) break;
  }
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - maxTerm);
  return Math.min(1, Math.exp(maxTerm) * sum);
}
