/**
 * What a notification says (pure): the webhook's JSON body, and the subject and text that email
 * and the log use. Built from the ledger row and the alert (or, for a digest, the grouped ones).
 */
import { isoTime } from '../../infra/clock.ts';
import type { Alert } from '../alert.ts';
import type { NotificationKind } from '../escalation/notification.ts';

export interface AlertSummary {
  id: string;
  rule: string;
  severity: Alert['severity'];
  state: Alert['state'];
  subject: Alert['subject'];
  title: string;
  detail: string;
  details: Record<string, unknown>;
  openedAt: string;
  lastRaisedAt: string;
  raiseCount: number;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** The alert in the management API. */
  link: string;
}

/** The webhook body (JSON), also the source of the email and log texts. */
export interface NotificationMessage {
  /** Stable across retries: receivers de-duplicate with it. */
  deliveryId: string;
  kind: NotificationKind;
  /** `<severity>:<index>` of the escalation chain, `resolved` or `digest`. */
  step: string;
  channel: string;
  alert: AlertSummary | null;
  /** Set for a digest: the notifications the rate limit held back. */
  digest: {
    count: number;
    alerts: Array<{ kind: NotificationKind; alert: AlertSummary }>;
    link: string;
  } | null;
}

const optionalTime = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

export function alertSummary(alert: Alert, linkBaseUrl: string): AlertSummary {
  return {
    id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    state: alert.state,
    subject: alert.subject,
    title: alert.title,
    detail: alert.detail,
    details: alert.details,
    openedAt: isoTime(alert.openedAtMs),
    lastRaisedAt: isoTime(alert.lastRaisedAtMs),
    raiseCount: alert.raiseCount,
    acknowledgedAt: optionalTime(alert.acknowledgedAtMs),
    acknowledgedBy: alert.acknowledgedBy,
    resolvedAt: optionalTime(alert.resolvedAtMs),
    resolvedBy: alert.resolvedBy,
    link: `${linkBaseUrl}/api/v1/alerts/${encodeURIComponent(alert.id)}`,
  };
}

const subjectText = (alert: AlertSummary): string => `${alert.subject.kind} ${alert.subject.id}`;

/** One line: the email subject and the log message. */
export function messageSubject(message: NotificationMessage): string {
  if (message.digest)
    return `[flotilla] ${message.digest.count} alert notifications held back by the rate limit`;
  const alert = message.alert;
  if (!alert) return '[flotilla] notification';
  const prefix = message.kind === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  const escalated = message.kind === 'escalated' ? ' (escalated)' : '';
  return `[flotilla] ${prefix}${escalated}: ${alert.title} - ${subjectText(alert)}`;
}

/** Plain text: the email body. */
export function messageText(message: NotificationMessage): string {
  if (message.digest) {
    const { count, alerts, link } = message.digest;
    const lines = alerts.map(
      (a) => `- [${a.alert.severity}] ${a.kind}: ${a.alert.title} - ${subjectText(a.alert)} (${a.alert.id})`,
    );
    const more = count > alerts.length ? [`... and ${count - alerts.length} more`] : [];
    return [`${count} notifications were grouped by the rate limit:`, ...lines, ...more, '', link].join('\n');
  }
  const alert = message.alert;
  if (!alert) return '';
  return [
    `${alert.title}`,
    '',
    `severity: ${alert.severity}    state: ${alert.state}    rule: ${alert.rule}`,
    `subject:  ${subjectText(alert)}`,
    `opened:   ${alert.openedAt}    last raised: ${alert.lastRaisedAt} (${alert.raiseCount} times)`,
    ...(alert.resolvedAt ? [`resolved: ${alert.resolvedAt} by ${alert.resolvedBy ?? '?'}`] : []),
    '',
    alert.detail,
    '',
    alert.link,
  ].join('\n');
}
