/**
 * A notification channel: delivers one message (an alert's step, its resolution, or a digest)
 * per call. Channels only deliver; retries, timeouts, rate limits and queues are the
 * escalation engine's, the same for every channel.
 */
import { FlotillaError } from '../../infra/errors.ts';
import type { NotificationMessage } from './message.ts';

export interface DeliveryPolicy {
  /** One attempt may take this long (ms) before it is aborted and counted as a retryable failure. */
  timeoutMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number };
  /** Deliveries in flight at once. */
  concurrency: number;
  rateLimit: { max: number; windowS: number; digestListMax: number };
}

export interface NotificationChannel {
  name: string;
  type: 'webhook' | 'email' | 'log';
  policy: DeliveryPolicy;
  /** Resolves once delivered; throws DeliveryError (or anything else: retryable). Must honour `signal`. */
  deliver(message: NotificationMessage, signal: AbortSignal): Promise<void>;
  /** Releases connections; idempotent. */
  close?(): Promise<void>;
}

/** A failed delivery: `retryable` (timeouts, network, 5xx, 429) or not (other 4xx, bad address). */
export class DeliveryError extends FlotillaError {
  readonly code = 'delivery_failed';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** What the receiver asked us to wait (Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The log channel's policy: it cannot fail, so one attempt without retries. */
export const logDeliveryPolicy = (rateLimit: DeliveryPolicy['rateLimit']): DeliveryPolicy => ({
  timeoutMs: 5000,
  maxAttempts: 1,
  backoff: { initialMs: 1000, maxMs: 1000 },
  concurrency: 8,
  rateLimit,
});
