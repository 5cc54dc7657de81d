/**
 * Notification ledger SQL and rows shared by both stores. Statements are written with `?`
 * placeholders; PostgreSQL numbers them (`numbered`). Times are integer ms in both dialects.
 */
import { alertSeverities, type AlertSeverity } from '../alerts/alert.ts';
import {
  notificationKinds,
  notificationStates,
  stepSeverity,
  type NotificationRecord,
} from '../alerts/escalation/notification.ts';

type Big = number | string;

export interface NotificationRow {
  id: Big;
  alert_id: string;
  step: string;
  channel: string;
  kind: string;
  due_at: Big;
  state: string;
  attempts: Big;
  admitted_at: Big | null;
  next_attempt_at: Big | null;
  last_error: string | null;
  sent_at: Big | null;
  digest_id: string | null;
}

const columns =
  'id, alert_id, step, channel, kind, due_at, state, attempts, admitted_at, next_attempt_at, last_error, sent_at, digest_id';
const chainKinds = `kind IN ('opened', 'escalated')`;

export const notificationSql = {
  startedChains: `SELECT DISTINCT n.alert_id, n.step FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
    WHERE a.state <> 'resolved' AND n.${chainKinds}`,
  insert: `INSERT INTO alert_notifications (alert_id, step, channel, kind, due_at, state, attempts)
    VALUES (?, ?, ?, ?, ?, 'pending', 0) ON CONFLICT DO NOTHING`,
  cancelChain: `UPDATE alert_notifications SET state = 'cancelled' WHERE alert_id = ? AND step LIKE ?
    AND state = 'pending' AND admitted_at IS NULL AND ${chainKinds}`,
  cancelStopped: `UPDATE alert_notifications SET state = 'cancelled'
    WHERE state = 'pending' AND admitted_at IS NULL AND ${chainKinds}
    AND EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_notifications.alert_id AND a.state <> 'open')`,
  scheduleResolved: `INSERT INTO alert_notifications (alert_id, step, channel, kind, due_at, state, attempts)
    SELECT DISTINCT n.alert_id, 'resolved', n.channel, 'resolved', a.resolved_at, 'pending', 0
    FROM alerts a JOIN alert_notifications n ON n.alert_id = a.id
    WHERE a.state = 'resolved' AND a.resolved_at >= ? AND n.${chainKinds} AND n.state = 'sent'
    ON CONFLICT DO NOTHING`,
  countAdmitted: `SELECT count(*) AS count FROM alert_notifications WHERE channel = ? AND admitted_at > ?`,
  countUngrouped: `SELECT count(*) AS count FROM alert_notifications
    WHERE channel = ? AND state = 'grouped' AND digest_id IS NULL`,
  insertDigest: `INSERT INTO alert_notifications
    (alert_id, step, channel, kind, due_at, state, attempts, admitted_at, next_attempt_at)
    VALUES (?, 'digest', ?, 'digest', ?, 'pending', 0, ?, ?)`,
  assignDigest: `UPDATE alert_notifications SET digest_id = ?
    WHERE channel = ? AND state = 'grouped' AND digest_id IS NULL`,
  admitDue: `UPDATE alert_notifications SET admitted_at = ?, next_attempt_at = ? WHERE id IN (
    SELECT id FROM alert_notifications WHERE channel = ? AND state = 'pending' AND admitted_at IS NULL
    AND due_at <= ? ORDER BY due_at, id LIMIT ?)`,
  groupDue: `UPDATE alert_notifications SET state = 'grouped'
    WHERE channel = ? AND state = 'pending' AND admitted_at IS NULL AND due_at <= ?`,
  claimDue: `UPDATE alert_notifications SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN (
    SELECT id FROM alert_notifications WHERE channel = ? AND state = 'pending' AND admitted_at IS NOT NULL
    AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?) RETURNING ${columns}`,
  markSent: `UPDATE alert_notifications SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?`,
  markRetry: `UPDATE alert_notifications SET next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
  markFailed: `UPDATE alert_notifications SET state = 'failed', last_error = ? WHERE id = ?`,
  digestCount: 'SELECT count(*) AS count FROM alert_notifications WHERE digest_id = ?',
  digestItems: `SELECT n.kind AS notification_kind, a.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
    WHERE n.digest_id = ? ORDER BY n.due_at, n.id LIMIT ?`,
  listForAlert: `SELECT ${columns} FROM alert_notifications WHERE alert_id = ? ORDER BY due_at, id`,
  countQueued: `SELECT channel, count(*) AS count FROM alert_notifications
    WHERE state = 'pending' OR (state = 'grouped' AND digest_id IS NULL) GROUP BY channel ORDER BY channel`,
} as const;

/** `?` → `$1, $2, …` for PostgreSQL. */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** `LIKE` pattern matching every step of a severity's chain. */
export const chainPattern = (severity: AlertSeverity): string => `${severity}:%`;

const oneOf = <T extends string>(allowed: readonly T[], value: string, what: string): T => {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`stored notification has an unknown ${what}: ${value}`);
  return value as T;
};
const optionalNum = (value: Big | null): number | null => (value === null ? null : Number(value));

export function notificationFromRow(row: NotificationRow): NotificationRecord {
  return {
    id: Number(row.id),
    alertId: row.alert_id,
    step: row.step,
    channel: row.channel,
    kind: oneOf(notificationKinds, row.kind, 'kind'),
    dueAtMs: Number(row.due_at),
    state: oneOf(notificationStates, row.state, 'state'),
    attempts: Number(row.attempts),
    admittedAtMs: optionalNum(row.admitted_at),
    nextAttemptAtMs: optionalNum(row.next_attempt_at),
    lastError: row.last_error,
    sentAtMs: optionalNum(row.sent_at),
    digestId: row.digest_id,
  };
}

/** alert id → the severities whose chain has rows, from `startedChains` rows. */
export function chainsByAlert(rows: Array<{ alert_id: string; step: string }>): Map<string, AlertSeverity[]> {
  const chains = new Map<string, AlertSeverity[]>();
  for (const row of rows) {
    const severity = stepSeverity(row.step);
    if (severity === undefined) continue;
    const list = chains.get(row.alert_id) ?? [];
    if (!list.includes(severity)) list.push(severity);
    chains.set(row.alert_id, list);
  }
  for (const list of chains.values())
    list.sort((a, b) => alertSeverities.indexOf(a) - alertSeverities.indexOf(b));
  return chains;
}
