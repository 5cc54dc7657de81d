/**
 * Alert rows both stores share: columns, the decoder (SQLite INTEGER/TEXT and PostgreSQL
 * bigint-as-text/jsonb alike) and the list query, built once for both dialects with every
 * value bound.
 */
import {
  alertSeverities,
  alertStates,
  alertSubjectKinds,
  type Alert,
  type AlertEvent,
  type AlertEventKind,
  type AlertFilter,
} from '../alerts/alert.ts';
import { NotFoundError } from '../infra/errors.ts';
import { checkPageLimit, decodeCursor, encodeCursor } from './cursor.ts';
import type { Page, PageRequest } from './types.ts';

type Big = number | string;

export interface AlertRow {
  id: string;
  key: string;
  rule: string;
  severity: string;
  state: string;
  subject_kind: string;
  subject_id: string;
  title: string;
  detail: string;
  details: unknown;
  opened_at: Big;
  last_raised_at: Big;
  raise_count: Big;
  acknowledged_at: Big | null;
  acknowledged_by: string | null;
  resolved_at: Big | null;
  resolved_by: string | null;
}

export interface AlertEventRow {
  alert_id: string;
  at: Big;
  kind: string;
  actor: string;
  note: string | null;
}

export const alertColumns =
  'id, key, rule, severity, state, subject_kind, subject_id, title, detail, details, opened_at, ' +
  'last_raised_at, raise_count, acknowledged_at, acknowledged_by, resolved_at, resolved_by';

const oneOf = <T extends string>(allowed: readonly T[], value: string, what: string): T => {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`stored alert has an unknown ${what}: ${value}`);
  return value as T;
};
const num = (value: Big): number => Number(value);
const optionalNum = (value: Big | null): number | null => (value === null ? null : Number(value));

export function alertFromRow(row: AlertRow): Alert {
  const details = typeof row.details === 'string' ? (JSON.parse(row.details) as unknown) : row.details;
  return {
    id: row.id,
    key: row.key,
    rule: row.rule,
    severity: oneOf(alertSeverities, row.severity, 'severity'),
    state: oneOf(alertStates, row.state, 'state'),
    subject: { kind: oneOf(alertSubjectKinds, row.subject_kind, 'subject kind'), id: row.subject_id },
    title: row.title,
    detail: row.detail,
    details: (details ?? {}) as Record<string, unknown>,
    openedAtMs: num(row.opened_at),
    lastRaisedAtMs: num(row.last_raised_at),
    raiseCount: num(row.raise_count),
    acknowledgedAtMs: optionalNum(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    resolvedAtMs: optionalNum(row.resolved_at),
    resolvedBy: row.resolved_by,
  };
}

export function alertEventFromRow(row: AlertEventRow): AlertEvent {
  return {
    alertId: row.alert_id,
    atMs: num(row.at),
    kind: row.kind as AlertEventKind,
    actor: row.actor,
    note: row.note,
  };
}

export const missingAlert = (id: string): NotFoundError => new NotFoundError(`alert ${id} not found`, { id });

/** `SELECT … WHERE … ORDER BY id DESC LIMIT n+1`: newest first (ids sort by opening time). */
export function buildAlertListQuery(
  filter: AlertFilter,
  page: PageRequest,
  placeholder: (position: number) => string,
): { sql: string; params: Array<string | number> } {
  checkPageLimit(page.limit);
  const params: Array<string | number> = [];
  const bind = (value: string | number): string => {
    params.push(value);
    return placeholder(params.length);
  };
  const where: string[] = [];
  if (page.cursor !== undefined) where.push(`id < ${bind(decodeCursor(page.cursor))}`);
  if (filter.state === 'unresolved') where.push(`state <> 'resolved'`);
  else if (filter.state !== undefined) where.push(`state = ${bind(filter.state)}`);
  if (filter.severity !== undefined) where.push(`severity = ${bind(filter.severity)}`);
  if (filter.rule !== undefined) where.push(`rule = ${bind(filter.rule)}`);
  if (filter.subject !== undefined)
    where.push(`subject_kind = ${bind(filter.subject.kind)} AND subject_id = ${bind(filter.subject.id)}`);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return {
    sql: `SELECT ${alertColumns} FROM alerts ${clause} ORDER BY id DESC LIMIT ${bind(page.limit + 1)}`,
    params,
  };
}

export function alertPage(rows: AlertRow[], limit: number): Page<Alert> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    items: kept.map(alertFromRow),
    ...(rows.length > limit && last !== undefined ? { nextCursor: encodeCursor(last.id) } : {}),
  };
}
