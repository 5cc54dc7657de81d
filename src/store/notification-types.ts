/** The notification ledger (migration 14, `alert_notifications`): what escalation has scheduled and sent. */
import type { Alert, AlertSeverity } from '../alerts/alert.ts';
import type {
  NewNotification,
  NotificationKind,
  NotificationRecord,
} from '../alerts/escalation/notification.ts';

export interface RateLimit {
  max: number;
  windowMs: number;
}

export interface AdmitOutcome {
  /** Rows let through now (the digest included). */
  admitted: number;
  /** Rows held back for a digest by this call. */
  grouped: number;
  /** True when a digest was built (its id is the one passed in). */
  digest: boolean;
}

export interface DigestContents {
  /** Notifications the digest stands for. */
  count: number;
  /** The first `limit` of them with their alerts, oldest first. */
  items: Array<{ kind: NotificationKind; alert: Alert }>;
}

export interface NotificationStore {
  /** Per unresolved alert, the severities whose chain has rows. */
  startedChains(): Promise<Map<string, AlertSeverity[]>>;
  /**
   * Inserts rows whose (alert, step, channel, kind) is new (idempotent), and cancels the pending,
   * not yet admitted rows of the `superseded` chains. Returns the rows inserted.
   */
  schedule(
    rows: NewNotification[],
    superseded: Array<{ alertId: string; severity: AlertSeverity }>,
  ): Promise<number>;
  /** Cancels pending, not yet admitted chain rows of alerts that are no longer open. */
  cancelStopped(): Promise<number>;
  /** A `resolved` row per channel that was sent a chain step of an alert resolved at or after `sinceMs`. */
  scheduleResolved(sinceMs: number): Promise<number>;
  /**
   * Applies the channel's rate limit at `nowMs`: builds a digest of the grouped rows (id
   * `digestId`) when the window has room, lets due rows through while it has room, and groups
   * the rest. Atomic per channel.
   */
  admit(channel: string, nowMs: number, limit: RateLimit, digestId: string): Promise<AdmitOutcome>;
  /** Admitted pending rows whose attempt is due; each is claimed (attempts + 1, next attempt at now + leaseMs). */
  claimDue(channel: string, nowMs: number, leaseMs: number, limit: number): Promise<NotificationRecord[]>;
  markSent(id: number, atMs: number): Promise<void>;
  markRetry(id: number, nextAttemptAtMs: number, error: string): Promise<void>;
  markFailed(id: number, error: string): Promise<void>;
  digestContents(digestId: string, limit: number): Promise<DigestContents>;
  /** Oldest first. */
  listForAlert(alertId: string): Promise<NotificationRecord[]>;
  /** Pending and grouped-without-digest rows per channel (queue depth). */
  countQueued(): Promise<Array<{ channel: string; count: number }>>;
}
