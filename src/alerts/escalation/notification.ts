/**
 * The notification ledger's records (pure): one row per alert, chain step, channel and kind,
 * so a restart neither resends nor loses a step. A step is `<severity>:<index>` of that
 * severity's chain; resolved notifications use step `resolved`, digests step `digest`.
 */
import { createHash } from 'node:crypto';
import type { AlertSeverity } from '../alert.ts';

export const notificationKinds = ['opened', 'escalated', 'resolved', 'digest'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/**
 * pending: waiting for its time, the rate limit or a retry · sent · failed (gave up) ·
 * grouped: held by the rate limit, reported in a digest (`digestId` once it is built) ·
 * cancelled: acknowledged, resolved or superseded by a higher severity's chain before it went out.
 */
export const notificationStates = ['pending', 'sent', 'failed', 'grouped', 'cancelled'] as const;
export type NotificationState = (typeof notificationStates)[number];

export interface NewNotification {
  /** The alert; for a digest, the digest's own id. */
  alertId: string;
  step: string;
  channel: string;
  kind: NotificationKind;
  dueAtMs: number;
}

export interface NotificationRecord extends NewNotification {
  id: number;
  state: NotificationState;
  attempts: number;
  /** When the rate limit let it through (counts against the channel's window). */
  admittedAtMs: number | null;
  nextAttemptAtMs: number | null;
  lastError: string | null;
  sentAtMs: number | null;
  /** The digest that reported this grouped notification. */
  digestId: string | null;
}

export const RESOLVED_STEP = 'resolved';
export const DIGEST_STEP = 'digest';

export const chainStep = (severity: AlertSeverity, index: number): string => `${severity}:${index}`;

/** The severity whose chain a step belongs to; undefined for resolved and digest rows. */
export function stepSeverity(step: string): AlertSeverity | undefined {
  const prefix = step.split(':')[0];
  return prefix === 'info' || prefix === 'warning' || prefix === 'critical' ? prefix : undefined;
}

/** Stable across retries and restarts, so a receiver can de-duplicate (X-Flotilla-Delivery). */
export function deliveryIdOf(
  record: Pick<NotificationRecord, 'alertId' | 'step' | 'channel' | 'kind'>,
): string {
  const key = `${record.alertId}|${record.step}|${record.channel}|${record.kind}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
