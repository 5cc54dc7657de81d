/**
 * Builds the `listAudit` query once for both SQL dialects: optional target and action filters,
 * newest first, values always bound. The (target|action, at, id) indexes serve both orderings.
 */
import { ValidationError } from '../infra/errors.ts';
import type { SqlQuery, SqlValue } from './list-query.ts';
import { auditColumns } from './provisioning-rows.ts';

export const maxAuditLimit = 1000;

export interface AuditFilter {
  target?: string;
  action?: string;
  /** 1..maxAuditLimit */
  limit: number;
}

/** ValidationError unless 1 <= limit <= maxAuditLimit. */
export function buildAuditQuery(filter: AuditFilter, placeholder: (position: number) => string): SqlQuery {
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > maxAuditLimit) {
    throw new ValidationError(`audit limit must be an integer from 1 to ${maxAuditLimit}`, {
      limit: filter.limit,
    });
  }
  const params: SqlValue[] = [];
  const bind = (value: SqlValue) => {
    params.push(value);
    return placeholder(params.length);
  };
  const where: string[] = [];
  if (filter.target !== undefined) where.push(`target = ${bind(filter.target)}`);
  if (filter.action !== undefined) where.push(`action = ${bind(filter.action)}`);
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  const sql = `SELECT ${auditColumns} FROM audit_log${whereSql} ORDER BY at DESC, id DESC LIMIT ${bind(filter.limit)}`;
  return { sql, params };
}
