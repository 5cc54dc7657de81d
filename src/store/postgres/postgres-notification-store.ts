/**
 * The notification ledger on the shared pg.Pool. Admission takes a transaction-scoped advisory
 * lock per channel, so two servers apply one channel's rate limit one after the other; claims
 * skip rows another server is claiming.
 */
import type { AlertSeverity } from '../../alerts/alert.ts';
import type {
  NewNotification,
  NotificationKind,
  NotificationRecord,
} from '../../alerts/escalation/notification.ts';
import { alertFromRow, type AlertRow } from '../alert-rows.ts';
import {
  chainPattern,
  chainsByAlert,
  notificationFromRow,
  notificationSql,
  numbered,
  type NotificationRow,
} from '../notification-rows.ts';
import type { AdmitOutcome, DigestContents, NotificationStore, RateLimit } from '../notification-types.ts';
import type { PgSession } from './pg-session.ts';

const sql = Object.fromEntries(
  Object.entries(notificationSql).map(([key, text]) => [key, numbered(text)]),
) as Record<keyof typeof notificationSql, string>;
// Two servers claiming at once take different rows (the IN list is not re-checked after a lock wait).
sql.claimDue = numbered(notificationSql.claimDue.replace('LIMIT ?)', 'LIMIT ? FOR UPDATE SKIP LOCKED)'));
const lockChannel = "SELECT pg_advisory_xact_lock(hashtext('flotilla.notify:' || $1))";
const countOf = (rows: Array<{ count: string | number }>): number => Number(rows[0]?.count ?? 0);

export class PostgresNotificationStore implements NotificationStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async startedChains(): Promise<Map<string, AlertSeverity[]>> {
    return chainsByAlert(
      (await this.#session.query<{ alert_id: string; step: string }>(sql.startedChains, [])).rows,
    );
  }

  schedule(
    rows: NewNotification[],
    superseded: Array<{ alertId: string; severity: AlertSeverity }>,
  ): Promise<number> {
    return this.#session.transaction(async (client) => {
      for (const chain of superseded)
        await client.query(sql.cancelChain, [chain.alertId, chainPattern(chain.severity)]);
      let inserted = 0;
      for (const row of rows) {
        const result = await client.query(sql.insert, [
          row.alertId,
          row.step,
          row.channel,
          row.kind,
          row.dueAtMs,
        ]);
        inserted += result.rowCount ?? 0;
      }
      return inserted;
    });
  }

  async cancelStopped(): Promise<number> {
    return (await this.#session.query(sql.cancelStopped, [])).rowCount ?? 0;
  }

  async scheduleResolved(sinceMs: number): Promise<number> {
    return (await this.#session.query(sql.scheduleResolved, [sinceMs])).rowCount ?? 0;
  }

  admit(channel: string, nowMs: number, limit: RateLimit, digestId: string): Promise<AdmitOutcome> {
    return this.#session.transaction(async (client) => {
      await client.query(lockChannel, [channel]);
      const used = countOf(
        (await client.query<{ count: string }>(sql.countAdmitted, [channel, nowMs - limit.windowMs])).rows,
      );
      let room = limit.max - used;
      let digest = false;
      if (
        room > 0 &&
        countOf((await client.query<{ count: string }>(sql.countUngrouped, [channel])).rows) > 0
      ) {
        await client.query(sql.insertDigest, [digestId, channel, nowMs, nowMs, nowMs]);
        await client.query(sql.assignDigest, [digestId, channel]);
        digest = true;
        room -= 1;
      }
      const admitted =
        room > 0
          ? ((await client.query(sql.admitDue, [nowMs, nowMs, channel, nowMs, room])).rowCount ?? 0)
          : 0;
      const grouped = (await client.query(sql.groupDue, [channel, nowMs])).rowCount ?? 0;
      return { admitted: admitted + (digest ? 1 : 0), grouped, digest };
    });
  }

  async claimDue(
    channel: string,
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<NotificationRecord[]> {
    const result = await this.#session.query<NotificationRow>(sql.claimDue, [
      nowMs + leaseMs,
      channel,
      nowMs,
      limit,
    ]);
    return result.rows.map(notificationFromRow).sort((a, b) => a.id - b.id);
  }

  async markSent(id: number, atMs: number): Promise<void> {
    await this.#session.query(sql.markSent, [atMs, id]);
  }

  async markRetry(id: number, nextAttemptAtMs: number, error: string): Promise<void> {
    await this.#session.query(sql.markRetry, [nextAttemptAtMs, error, id]);
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.#session.query(sql.markFailed, [error, id]);
  }

  async digestContents(digestId: string, limit: number): Promise<DigestContents> {
    const count = countOf((await this.#session.query<{ count: string }>(sql.digestCount, [digestId])).rows);
    const rows = await this.#session.query<AlertRow & { notification_kind: NotificationKind }>(
      sql.digestItems,
      [digestId, limit],
    );
    return {
      count,
      items: rows.rows.map((row) => ({ kind: row.notification_kind, alert: alertFromRow(row) })),
    };
  }

  async listForAlert(alertId: string): Promise<NotificationRecord[]> {
    return (await this.#session.query<NotificationRow>(sql.listForAlert, [alertId])).rows.map(
      notificationFromRow,
    );
  }

  async countQueued(): Promise<Array<{ channel: string; count: number }>> {
    const result = await this.#session.query<{ channel: string; count: string }>(sql.countQueued, []);
    return result.rows.map((r) => ({ channel: r.channel, count: Number(r.count) }));
  }
}
