/** The alert store on the shared better-sqlite3 handle; each change is one IMMEDIATE transaction. */
import type Database from 'better-sqlite3';
import {
  alertKey,
  checkAcknowledge,
  checkResolve,
  type Alert,
  type AlertEvent,
  type AlertEventKind,
  type AlertFilter,
  type AlertRaise,
} from '../../alerts/alert.ts';
import {
  alertColumns,
  alertEventFromRow,
  alertFromRow,
  alertPage,
  buildAlertListQuery,
  missingAlert,
  type AlertEventRow,
  type AlertRow,
} from '../alert-rows.ts';
import type { AlertStore, RaiseOutcome } from '../alert-types.ts';
import type { Page, PageRequest } from '../types.ts';
import { runSync } from './sqlite-errors.ts';

const sql = {
  select: `SELECT ${alertColumns} FROM alerts WHERE id = ?`,
  selectUnresolved: `SELECT ${alertColumns} FROM alerts WHERE key = ? AND state <> 'resolved'`,
  insert: `INSERT INTO alerts (id, key, rule, severity, state, subject_kind, subject_id, title, detail, details,
    opened_at, last_raised_at, raise_count) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, 1) RETURNING ${alertColumns}`,
  reraise: `UPDATE alerts SET severity = ?, title = ?, detail = ?, details = ?, last_raised_at = ?,
    raise_count = raise_count + 1 WHERE id = ? RETURNING ${alertColumns}`,
  acknowledge: `UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?
    WHERE id = ? RETURNING ${alertColumns}`,
  resolve: `UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?
    WHERE id = ? RETURNING ${alertColumns}`,
  insertEvent: 'INSERT INTO alert_events (alert_id, at, kind, actor, note) VALUES (?, ?, ?, ?, ?)',
  selectEvents: 'SELECT alert_id, at, kind, actor, note FROM alert_events WHERE alert_id = ? ORDER BY id',
  countUnresolved: `SELECT state, severity, count(*) AS count FROM alerts WHERE state <> 'resolved'
    GROUP BY state, severity ORDER BY state, severity`,
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

export class SqliteAlertStore implements AlertStore {
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

  #event(alertId: string, atMs: number, kind: AlertEventKind, actor: string, note: string | null): void {
    this.#s.insertEvent.run(alertId, atMs, kind, actor, note);
  }

  #get(id: string): Alert {
    const row = this.#s.select.get(id) as AlertRow | undefined;
    if (row === undefined) throw missingAlert(id);
    return alertFromRow(row);
  }

  raise(raise: AlertRaise, id: string, atMs: number): Promise<RaiseOutcome> {
    return this.#write(() => {
      const key = alertKey(raise);
      const existing = this.#s.selectUnresolved.get(key) as AlertRow | undefined;
      const details = JSON.stringify(raise.details);
      if (existing === undefined) {
        const row = this.#s.insert.get(
          id,
          key,
          raise.rule,
          raise.severity,
          raise.subject.kind,
          raise.subject.id,
          raise.title,
          raise.detail,
          details,
          atMs,
          atMs,
        ) as AlertRow;
        this.#event(id, atMs, 'opened', 'system', raise.title);
        return { alert: alertFromRow(row), opened: true };
      }
      const before = alertFromRow(existing);
      const row = this.#s.reraise.get(
        raise.severity,
        raise.title,
        raise.detail,
        details,
        atMs,
        before.id,
      ) as AlertRow;
      if (before.severity === raise.severity) return { alert: alertFromRow(row), opened: false };
      this.#event(before.id, atMs, 'severity-changed', 'system', `${before.severity} → ${raise.severity}`);
      return { alert: alertFromRow(row), opened: false, previousSeverity: before.severity };
    });
  }

  acknowledge(id: string, actor: string, atMs: number, note: string | null): Promise<Alert> {
    return this.#write(() => {
      checkAcknowledge(this.#get(id));
      const row = this.#s.acknowledge.get(atMs, actor, id) as AlertRow;
      this.#event(id, atMs, 'acknowledged', actor, note);
      return alertFromRow(row);
    });
  }

  resolve(id: string, actor: string, atMs: number, note: string | null): Promise<Alert> {
    return this.#write(() => {
      checkResolve(this.#get(id));
      const row = this.#s.resolve.get(atMs, actor, id) as AlertRow;
      this.#event(id, atMs, 'resolved', actor, note);
      return alertFromRow(row);
    });
  }

  resolveKey(key: string, actor: string, atMs: number, note: string | null): Promise<Alert | undefined> {
    return this.#write(() => {
      const existing = this.#s.selectUnresolved.get(key) as AlertRow | undefined;
      if (existing === undefined) return undefined;
      const row = this.#s.resolve.get(atMs, actor, existing.id) as AlertRow;
      this.#event(existing.id, atMs, 'resolved', actor, note);
      return alertFromRow(row);
    });
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return runSync(this.#db, () => {
      const row = this.#s.select.get(id) as AlertRow | undefined;
      return row && alertFromRow(row);
    });
  }

  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<Alert>> {
    return runSync(this.#db, () => {
      const query = buildAlertListQuery(filter, page, () => '?');
      return alertPage(this.#db.prepare(query.sql).all(...query.params) as AlertRow[], page.limit);
    });
  }

  listEvents(alertId: string): Promise<AlertEvent[]> {
    return runSync(this.#db, () =>
      (this.#s.selectEvents.all(alertId) as AlertEventRow[]).map(alertEventFromRow),
    );
  }

  countUnresolved(): ReturnType<AlertStore['countUnresolved']> {
    return runSync(this.#db, () =>
      (
        this.#s.countUnresolved.all() as Array<{
          state: 'open' | 'acknowledged';
          severity: Alert['severity'];
          count: number;
        }>
      ).map((r) => ({ state: r.state, severity: r.severity, count: Number(r.count) })),
    );
  }
}
