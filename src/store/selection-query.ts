/**
 * Builds the `listDevicesMatching` query once for both SQL dialects: a rollout's device selector
 * (device-selector.ts, whose `matchesSelector` stays the reference) as a WHERE clause, keyset
 * paging by id, and one extra row to learn whether another page follows. Values are always
 * bound, never spliced; a list is bound as one parameter (a JSON array or a text[]).
 */
import { compileWhere } from '../fleet-query/sql/compile.ts';
import { checkPageLimit, decodeCursor } from './cursor.ts';
import { isTagKey, type Bind, type ListDialect, type SqlQuery, type SqlValue } from './list-query.ts';
import { deviceColumns } from './row-mapping.ts';
import type { DeviceSelection, PageRequest } from './types.ts';

export interface SelectionDialect extends ListDialect {
  /** `column` equals any of `values`. */
  anyOf(column: string, values: readonly string[], bind: Bind): string;
  /** The FROM clause; `changedSince` says the attributes_changed_at range is the narrow condition. */
  from(changedSince: boolean): string;
  /** attributes_changed_at at or after `ms` (ms since epoch). */
  changedSince(ms: number, bind: Bind): string;
}

export function buildSelectionQuery(
  selection: DeviceSelection,
  page: PageRequest,
  dialect: SelectionDialect,
): SqlQuery {
  checkPageLimit(page.limit);
  const params: SqlValue[] = [];
  const bind: Bind = (value) => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  const where: string[] = [];
  if (page.cursor !== undefined) where.push(`id > ${bind(decodeCursor(page.cursor))}`);
  if (selection.hardwareModel !== undefined) where.push(`hardware_model = ${bind(selection.hardwareModel)}`);
  const lists = [
    ['hardware_model', selection.models],
    ['hardware_revision', selection.revisions],
    ['firmware_version', selection.firmwareVersions],
    ['region', selection.regions],
    ['id', selection.deviceIds],
  ] as const;
  for (const [column, values] of lists)
    if (values !== undefined) where.push(dialect.anyOf(column, values, bind));
  if (selection.owner !== undefined) where.push(`owner = ${bind(selection.owner)}`);
  const tags = selection.tags ?? {};
  if (Object.keys(tags).length > 0)
    // A key outside the tag alphabet is on no device (device tags are validated on the way in).
    where.push(...(Object.keys(tags).every(isTagKey) ? dialect.tagConditions(tags, bind) : ['1 = 0']));
  if (selection.notFirmwareVersion !== undefined)
    where.push(`(firmware_version IS NULL OR firmware_version <> ${bind(selection.notFirmwareVersion)})`);
  if (selection.where !== undefined) {
    const { query, nowMs } = selection.where;
    where.push(compileWhere(query, { dialect: dialect.query, bind, nowMs }));
  }
  const changedSince = selection.changedSinceMs !== undefined;
  if (selection.changedSinceMs !== undefined)
    where.push(dialect.changedSince(selection.changedSinceMs, bind));
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  const sql = `SELECT ${deviceColumns} FROM ${dialect.from(changedSince)}${whereSql} ORDER BY id LIMIT ${bind(page.limit + 1)}`;
  return { sql, params };
}
