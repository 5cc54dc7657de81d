/**
 * Webhook channel: POSTs the notification as JSON, signed (webhook-signature.ts). 2xx is
 * delivered; 5xx, 429 (with Retry-After), timeouts and network errors are retryable; any other
 * status is not (the receiver refused it).
 */
import type { Clock } from '../../infra/clock.ts';
import { DeliveryError, type DeliveryPolicy, type NotificationChannel } from './channel.ts';
import type { NotificationMessage } from './message.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export interface WebhookChannelOptions {
  name: string;
  url: string;
  secret: string;
  policy: DeliveryPolicy;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function createWebhookChannel(
  options: WebhookChannelOptions,
  deps: { clock: Clock },
): NotificationChannel {
  return {
    name: options.name,
    type: 'webhook',
    policy: options.policy,
    async deliver(message: NotificationMessage, signal: AbortSignal): Promise<void> {
      const body = JSON.stringify(message);
      const timestampS = Math.floor(deps.clock.now() / 1000);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          body,
          signal,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'flotilla-webhook',
            [SIGNATURE_HEADER]: signWebhook(options.secret, timestampS, body),
            [TIMESTAMP_HEADER]: String(timestampS),
            [DELIVERY_HEADER]: message.deliveryId,
          },
        });
      } catch (err) {
        const reason = signal.aborted ? 'timed out' : (err as Error).message;
        throw new DeliveryError(`webhook ${options.name}: ${reason}`, true);
      }
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      const retryable = response.status >= 500 || response.status === 429;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), deps.clock.now());
      throw new DeliveryError(`webhook ${options.name}: HTTP ${response.status}`, retryable, retryAfterMs);
    },
  };
}
