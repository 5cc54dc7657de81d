/**
 * The rollout's start rate: at most `maxStartsPerMinute` devices offered the update in any
 * sliding minute, so a large stage ramps up instead of hitting the download servers and the
 * fleet at once.
 */
export const RATE_WINDOW_MS = 60_000;

export interface StartAllowance {
  /** Devices that may be started now; Infinity when there is no limit. */
  allowed: number;
  /** When the next slot frees up (ms since epoch), when none is free now; else null. */
  nextSlotAtMs: number | null;
}

/**
 * `recentStartsMs`: when earlier devices were started (any order; older ones are ignored).
 * `maxStartsPerMinute` null = unlimited.
 */
export function startAllowance(
  maxStartsPerMinute: number | null,
  recentStartsMs: readonly number[],
  nowMs: number,
): StartAllowance {
  if (maxStartsPerMinute === null) return { allowed: Number.POSITIVE_INFINITY, nextSlotAtMs: null };
  const windowStartMs = nowMs - RATE_WINDOW_MS;
  const inWindow = recentStartsMs.filter((t) => t > windowStartMs && t <= nowMs).sort((a, b) => a - b);
  const allowed = Math.max(0, maxStartsPerMinute - inWindow.length);
  if (allowed > 0) return { allowed, nextSlotAtMs: null };
  // The slot of the start that leaves the window first; with more starts than the limit (a
  // lowered limit), enough of them must leave to get under it.
  const freeing = inWindow[inWindow.length - maxStartsPerMinute] ?? nowMs;
  return { allowed: 0, nextSlotAtMs: freeing + RATE_WINDOW_MS };
}
