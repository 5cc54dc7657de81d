/**
 * When a failed delivery is tried again (pure): exponential backoff with jitter, or what the
 * receiver asked for with Retry-After, whichever is later; no retry once attempts run out or
 * the failure is final.
 */
import type { DeliveryPolicy } from '../channels/channel.ts';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/** Longest Retry-After honoured (1 h), so a receiver cannot park a notification for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

export function retryDecision(
  policy: Pick<DeliveryPolicy, 'maxAttempts' | 'backoff'>,
  attempts: number,
  failure: { retryable: boolean; retryAfterMs?: number },
  random: () => number,
): RetryDecision {
  if (!failure.retryable || attempts >= policy.maxAttempts) return { retry: false };
  const ceilingMs = Math.min(policy.backoff.maxMs, policy.backoff.initialMs * 2 ** (attempts - 1));
  // "Equal jitter": half fixed, half random, so retries spread out but never come at once.
  const backoffMs = Math.round(ceilingMs / 2 + (random() * ceilingMs) / 2);
  const askedMs = Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  return { retry: true, delayMs: Math.max(backoffMs, askedMs) };
}
