/** The notification ledger on the shared better-sqlite3 handle; each change is one IMMEDIATE transaction. */
import type Database from 'better-sqlite3';
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
  notificationSql as sql,
  type NotificationRow,
} from '../notification-rows.ts';
import type { AdmitOutcome, DigestContents, NotificationStore, RateLimit } from '../notification-types.ts';
import { runSync } from './sqlite-errors.ts';

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };
const countOf = (row: unknown): number => Number((row as { count: number }).count);

export class SqliteNotificationStore implements NotificationStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }

  startedChains(): Promise<Map<string, AlertSeverity[]>> {
    return runSync(this.#db, () =>
      chainsByAlert(this.#s.startedChains.all() as Array<{ alert_id: string; step: string }>),
    );
  }

  schedule(
    rows: NewNotification[],
    superseded: Array<{ alertId: string; severity: AlertSeverity }>,
  ): Promise<number> {
    return this.#write(() => {
      for (const chain of superseded) this.#s.cancelChain.run(chain.alertId, chainPattern(chain.severity));
      let inserted = 0;
      for (const row of rows)
        inserted += this.#s.insert.run(row.alertId, row.step, row.channel, row.kind, row.dueAtMs).changes;
      return inserted;
    });
  }

  cancelStopped(): Promise<number> {
    return this.#write(() => this.#s.cancelStopped.run().changes);
  }

  scheduleResolved(sinceMs: number): Promise<number> {
    return this.#write(() => this.#s.scheduleResolved.run(sinceMs).changes);
  }

  admit(channel: string, nowMs: number, limit: RateLimit, digestId: string): Promise<AdmitOutcome> {
    return this.#write(() => {
      let room = limit.max - countOf(this.#s.countAdmitted.get(channel, nowMs - limit.windowMs));
      let digest = false;
      if (room > 0 && countOf(this.#s.countUngrouped.get(channel)) > 0) {
        this.#s.insertDigest.run(digestId, channel, nowMs, nowMs, nowMs);
        this.#s.assignDigest.run(digestId, channel);
        digest = true;
        room -= 1;
      }
      const admitted = room > 0 ? this.#s.admitDue.run(nowMs, nowMs, channel, nowMs, room).changes : 0;
      const grouped = this.#s.groupDue.run(channel, nowMs).changes;
      return { admitted: admitted + (digest ? 1 : 0), grouped, digest };
    });
  }

  claimDue(channel: string, nowMs: number, leaseMs: number, limit: number): Promise<NotificationRecord[]> {
    return this.#write(() =>
      (this.#s.claimDue.all(nowMs + leaseMs, channel, nowMs, limit) as NotificationRow[])
        .map(notificationFromRow)
        .sort((a, b) => a.id - b.id),
    );
  }

  async markSent(id: number, atMs: number): Promise<void> {
    await this.#write(() => this.#s.markSent.run(atMs, id));
  }

  async markRetry(id: number, nextAttemptAtMs: number, error: string): Promise<void> {
    await this.#write(() => this.#s.markRetry.run(nextAttemptAtMs, error, id));
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.#write(() => this.#s.markFailed.run(error, id));
  }

  digestContents(digestId: string, limit: number): Promise<DigestContents> {
    return runSync(this.#db, () => ({
      count: countOf(this.#s.digestCount.get(digestId)),
      items: (
        this.#s.digestItems.all(digestId, limit) as Array<AlertRow & { notification_kind: NotificationKind }>
      ).map((row) => ({ kind: row.notification_kind, alert: alertFromRow(row) })),
    }));
  }

  listForAlert(alertId: string): Promise<NotificationRecord[]> {
    return runSync(this.#db, () =>
      (this.#s.listForAlert.all(alertId) as NotificationRow[]).map(notificationFromRow),
    );
  }

  countQueued(): Promise<Array<{ channel: string; count: number }>> {
    return runSync(this.#db, () =>
      (this.#s.countQueued.all() as Array<{ channel: string; count: number }>).map((r) => ({
        channel: r.channel,
        count: Number(r.count),
      })),
    );
  }
}
