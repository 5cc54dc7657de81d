/**
 * The alert store on the shared pg.Pool. Each change is one transaction; a raise takes a
 * transaction-scoped advisory lock on its key, so two servers raising the same alert at once
 * update one alert instead of racing on the unique index.
 */
import type pg from 'pg';
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
import { firstRow, type PgSession } from './pg-session.ts';

const sql = {
  select: `SELECT ${alertColumns} FROM alerts WHERE id = $1`,
  selectForUpdate: `SELECT ${alertColumns} FROM alerts WHERE id = $1 FOR UPDATE`,
  lockKey: "SELECT pg_advisory_xact_lock(hashtext('flotilla.alerts:' || $1))",
  selectUnresolved: `SELECT ${alertColumns} FROM alerts WHERE key = $1 AND state <> 'resolved' FOR UPDATE`,
  insert: `INSERT INTO alerts (id, key, rule, severity, state, subject_kind, subject_id, title, detail, details,
    opened_at, last_raised_at, raise_count) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $10, 1)
    RETURNING ${alertColumns}`,
  reraise: `UPDATE alerts SET severity = $1, title = $2, detail = $3, details = $4, last_raised_at = $5,
    raise_count = raise_count + 1 WHERE id = $6 RETURNING ${alertColumns}`,
  acknowledge: `UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2
    WHERE id = $3 RETURNING ${alertColumns}`,
  resolve: `UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_by = $2
    WHERE id = $3 RETURNING ${alertColumns}`,
  insertEvent: 'INSERT INTO alert_events (alert_id, at, kind, actor, note) VALUES ($1, $2, $3, $4, $5)',
  selectEvents: 'SELECT alert_id, at, kind, actor, note FROM alert_events WHERE alert_id = $1 ORDER BY id',
  countUnresolved: `SELECT state, severity, count(*) AS count FROM alerts WHERE state <> 'resolved'
    GROUP BY state, severity ORDER BY state, severity`,
} as const;

async function event(
  client: pg.PoolClient,
  alertId: string,
  atMs: number,
  kind: AlertEventKind,
  actor: string,
  note: string | null,
): Promise<void> {
  await client.query(sql.insertEvent, [alertId, atMs, kind, actor, note]);
}

async function locked(client: pg.PoolClient, id: string): Promise<Alert> {
  const result = await client.query<AlertRow>(sql.selectForUpdate, [id]);
  const row = result.rows[0];
  if (row === undefined) throw missingAlert(id);
  return alertFromRow(row);
}

export class PostgresAlertStore implements AlertStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  raise(raise: AlertRaise, id: string, atMs: number): Promise<RaiseOutcome> {
    const key = alertKey(raise);
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockKey, [key]);
      const existing = (await client.query<AlertRow>(sql.selectUnresolved, [key])).rows[0];
      const details = JSON.stringify(raise.details);
      if (existing === undefined) {
        const inserted = await client.query<AlertRow>(sql.insert, [
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
        ]);
        await event(client, id, atMs, 'opened', 'system', raise.title);
        return { alert: alertFromRow(firstRow(inserted)), opened: true };
      }
      const before = alertFromRow(existing);
      const updated = alertFromRow(
        firstRow(
          await client.query<AlertRow>(sql.reraise, [
            raise.severity,
            raise.title,
            raise.detail,
            details,
            atMs,
            before.id,
          ]),
        ),
      );
      if (before.severity === raise.severity) return { alert: updated, opened: false };
      await event(
        client,
        before.id,
        atMs,
        'severity-changed',
        'system',
        `${before.severity} → ${raise.severity}`,
      );
      return { alert: updated, opened: false, previousSeverity: before.severity };
    });
  }

  acknowledge(id: string, actor: string, atMs: number, note: string | null): Promise<Alert> {
    return this.#session.transaction(async (client) => {
      checkAcknowledge(await locked(client, id));
      const row = firstRow(await client.query<AlertRow>(sql.acknowledge, [atMs, actor, id]));
      await event(client, id, atMs, 'acknowledged', actor, note);
      return alertFromRow(row);
    });
  }

  resolve(id: string, actor: string, atMs: number, note: string | null): Promise<Alert> {
    return this.#session.transaction(async (client) => {
      checkResolve(await locked(client, id));
      const row = firstRow(await client.query<AlertRow>(sql.resolve, [atMs, actor, id]));
      await event(client, id, atMs, 'resolved', actor, note);
      return alertFromRow(row);
    });
  }

  resolveKey(key: string, actor: string, atMs: number, note: string | null): Promise<Alert | undefined> {
    return this.#session.transaction(async (client) => {
      await client.query(sql.lockKey, [key]);
      const existing = (await client.query<AlertRow>(sql.selectUnresolved, [key])).rows[0];
      if (existing === undefined) return undefined;
      const row = firstRow(await client.query<AlertRow>(sql.resolve, [atMs, actor, existing.id]));
      await event(client, existing.id, atMs, 'resolved', actor, note);
      return alertFromRow(row);
    });
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    const row = (await this.#session.query<AlertRow>(sql.select, [id])).rows[0];
    return row && alertFromRow(row);
  }

  async listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<Alert>> {
    const query = buildAlertListQuery(filter, page, (n) => `$${n}`);
    const result = await this.#session.query<AlertRow>(query.sql, query.params);
    return alertPage(result.rows, page.limit);
  }

  async listEvents(alertId: string): Promise<AlertEvent[]> {
    return (await this.#session.query<AlertEventRow>(sql.selectEvents, [alertId])).rows.map(
      alertEventFromRow,
    );
  }

  async countUnresolved(): ReturnType<AlertStore['countUnresolved']> {
    const result = await this.#session.query<{
      state: 'open' | 'acknowledged';
      severity: Alert['severity'];
      count: string;
    }>(sql.countUnresolved, []);
    return result.rows.map((r) => ({ state: r.state, severity: r.severity, count: Number(r.count) }));
  }
}
