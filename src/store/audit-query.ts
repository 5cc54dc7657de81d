/**
 * Builds the audit log queries once for both SQL dialects: filters (target, action, action
 * prefix, actor, source, time range), keyset paging by (at, id) newest first (or oldest first for
 * exports), and one extra row to learn whether another page follows. Values are always bound.
 */
import { ValidationError } from '../infra/errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { SqlQuery, SqlValue } from './list-query.ts';
import { auditColumns } from './provisioning-rows.ts';
import type { AuditEntry } from './provisioning-types.ts';
import type { Page } from './types.ts';

export const maxAuditLimit = 1000;

export interface AuditFilter {
  target?: string | undefined;
  action?: string | undefined;
  /** Actions starting with this text (`alert.` matches `alert.opened`, …), case-sensitive. */
  actionPrefix?: string | undefined;
  actor?: string | undefined;
  source?: string | undefined;
  /** ms since the epoch, inclusive. */
  fromMs?: number | undefined;
  /** ms since the epoch, exclusive. */
  toMs?: number | undefined;
  /** `nextCursor` of the previous page, read in the same order. */
  cursor?: string | undefined;
  /** Newest first (the default) or oldest first (exports). */
  order?: 'newest' | 'oldest' | undefined;
  /** 1..maxAuditLimit */
  limit: number;
}

/** How a dialect binds the pieces that differ: placeholders and times. */
export interface AuditDialect {
  placeholder(position: number): string;
  /** A time (ms since the epoch) as the value compared with the `at` column. */
  time(ms: number): SqlValue;
}

interface AuditPosition {
  atMs: number;
  id: number;
}

/** The cursor of the entry a page ended with: its time and id. */
export function encodeAuditCursor(entry: Pick<AuditEntry, 'at' | 'id'>): string {
  return encodeCursor(`${Date.parse(entry.at)}.${entry.id}`);
}

function decodeAuditCursor(cursor: string): AuditPosition {
  const match = /^(\d+)\.(\d+)$/.exec(decodeCursor(cursor));
  const atMs = Number(match?.[1]);
  const id = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(atMs) || !Number.isSafeInteger(id)) {
    throw new ValidationError('malformed page cursor', { cursor });
  }
  return { atMs, id };
}

/** ValidationError unless 1 <= limit <= maxAuditLimit, the range is ordered and the cursor is valid. */
export function buildAuditQuery(filter: AuditFilter, dialect: AuditDialect): SqlQuery {
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > maxAuditLimit) {
    throw new ValidationError(`audit limit must be an integer from 1 to ${maxAuditLimit}`, {
      limit: filter.limit,
    });
  }
  if (filter.fromMs !== undefined && filter.toMs !== undefined && filter.fromMs >= filter.toMs) {
    throw new ValidationError('audit from must be before to', { from: filter.fromMs, to: filter.toMs });
  }
  const params: SqlValue[] = [];
  const bind = (value: SqlValue) => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  const where: string[] = [];
  if (filter.target !== undefined) where.push(`target = ${bind(filter.target)}`);
  if (filter.action !== undefined) where.push(`action = ${bind(filter.action)}`);
  if (filter.actionPrefix !== undefined && filter.actionPrefix !== '') {
    // substr compares exactly in both dialects (SQLite's LIKE ignores ASCII case).
    const length = bind(filter.actionPrefix.length);
    where.push(`substr(action, 1, ${length}) = ${bind(filter.actionPrefix)}`);
  }
  if (filter.actor !== undefined) where.push(`actor = ${bind(filter.actor)}`);
  if (filter.source !== undefined) where.push(`source = ${bind(filter.source)}`);
  if (filter.fromMs !== undefined) where.push(`at >= ${bind(dialect.time(filter.fromMs))}`);
  if (filter.toMs !== undefined) where.push(`at < ${bind(dialect.time(filter.toMs))}`);
  const oldestFirst = filter.order === 'oldest';
  if (filter.cursor !== undefined) {
    const after = decodeAuditCursor(filter.cursor);
    const at = bind(dialect.time(after.atMs));
    const id = bind(after.id);
    where.push(oldestFirst ? `(at, id) > (${at}, ${id})` : `(at, id) < (${at}, ${id})`);
  }
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  const direction = oldestFirst ? 'ASC' : 'DESC';
  const sql = `SELECT ${auditColumns} FROM audit_log${whereSql} ORDER BY at ${direction}, id ${direction} LIMIT ${bind(filter.limit + 1)}`;
  return { sql, params };
}

/** Turns the `limit + 1` entries fetched into a page whose cursor points at the last one kept. */
export function toAuditPage(entries: AuditEntry[], limit: number): Page<AuditEntry> {
  const items = entries.slice(0, limit);
  const last = items.at(-1);
  return entries.length > limit && last !== undefined
    ? { items, nextCursor: encodeAuditCursor(last) }
    : { items };
}
