/**
 * Webhook signatures: `X-Flotilla-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
 * with `X-Flotilla-Timestamp` (Unix seconds). Signing the timestamp lets receivers refuse replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-flotilla-signature';
export const TIMESTAMP_HEADER = 'x-flotilla-timestamp';
export const DELIVERY_HEADER = 'x-flotilla-delivery';

export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/** What a receiver does (and the tests): constant-time comparison of the expected signature. */
export function verifyWebhook(secret: string, timestampS: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, Number(timestampS), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
