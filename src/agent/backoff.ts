/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff And Jitter", 2015). Full jitter spreads a fleet that lost the broker at
 * the same instant over the whole window, instead of having every device retry in lock-step.
 * Pure: the random source is passed in.
 */

export interface BackoffPolicy {
  /** Upper bound of the first delay, in milliseconds. */
  initialMs: number;
  /** Cap on the upper bound of any delay, in milliseconds. */
  maxMs: number;
  /** Uniform random number in [0, 1), e.g. Math.random. */
  random: () => number;
}

/** The largest delay `attempt` may wait: initialMs · 2^attempt, capped at maxMs. */
export function backoffCeilingMs(
  attempt: number,
  policy: Pick<BackoffPolicy, 'initialMs' | 'maxMs'>,
): number {
  const safeAttempt = Math.max(0, Math.floor(attempt));
  // 2^attempt overflows to Infinity for large attempts; Math.min then picks maxMs, which is what we want.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** safeAttempt);
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry), in milliseconds:
 * uniform in [0, ceiling]. Never negative, never above maxMs, whatever `random` returns.
 */
export function nextDelayMs(attempt: number, policy: BackoffPolicy): number {
  const ceiling = backoffCeilingMs(attempt, policy);
  const r = Math.min(1, Math.max(0, policy.random()));
  return Math.round(ceiling * r);
}
