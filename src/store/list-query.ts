/**
 * Builds the `listDevices` and `countDevices` queries once for both SQL dialects: filters (the
 * fixed ones and a fleet query), keyset paging by id, and one extra row to learn whether another
 * page follows. Values are always bound, never spliced.
 */
import { compileWhere } from '../fleet-query/sql/compile.ts';
import type { QueryDialect } from '../fleet-query/sql/dialect.ts';
import { ValidationError } from '../infra/errors.ts';
import { checkPageLimit, decodeCursor } from './cursor.ts';
import { sortedSelect, type SortDialect } from './device-sort.ts';
import { deviceColumns } from './row-mapping.ts';
import type { DeviceFilter, DevicePageRequest } from './types.ts';

/** A list is bound whole: PostgreSQL takes it as an array (SQLite dialects bind JSON text instead). */
export type SqlValue = string | number | readonly string[];

/** Adds a value to the parameter list and returns its placeholder (`?` or `$n`). */
export type Bind = (value: SqlValue) => string;

export interface ListDialect extends SortDialect {
  placeholder(position: number): string;
  /** Conditions requiring each given tag to hold exactly the given value. */
  tagConditions(tags: Record<string, string>, bind: Bind): string[];
  /** How fleet queries (`filter.where`) compile for this dialect. */
  query: QueryDialect;
}

export interface SqlQuery {
  sql: string;
  params: SqlValue[];
}

// Tag keys are lower-case [a-z0-9_.-] (contracts/device-messages.ts); the SQLite dialect relies
// on this to quote a key inside a JSON path.
const tagKeyPattern = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function buildListQuery(
  filter: DeviceFilter,
  page: DevicePageRequest,
  dialect: ListDialect,
): SqlQuery {
  checkPageLimit(page.limit);
  const { params, bind } = parameters(dialect);
  if (page.sort !== undefined && page.sort !== 'id') {
    const select = {
      columns: deviceColumns,
      filters: () => filterConditions(filter, dialect, bind),
      limit: page.limit,
    };
    return { sql: sortedSelect(page.sort, page.cursor, select, dialect, bind), params };
  }
  const where: string[] = [];
  if (page.cursor !== undefined) where.push(`id > ${bind(decodeCursor(page.cursor))}`);
  where.push(...filterConditions(filter, dialect, bind));
  const sql = `SELECT ${deviceColumns} FROM devices${whereClause(where)} ORDER BY id LIMIT ${bind(page.limit + 1)}`;
  return { sql, params };
}

/** `SELECT count(*) AS count` over the devices the filter matches. */
export function buildCountQuery(filter: DeviceFilter, dialect: ListDialect): SqlQuery {
  const { params, bind } = parameters(dialect);
  const where = filterConditions(filter, dialect, bind);
  return { sql: `SELECT count(*) AS count FROM devices${whereClause(where)}`, params };
}

function parameters(dialect: ListDialect): { params: SqlValue[]; bind: Bind } {
  const params: SqlValue[] = [];
  const bind: Bind = (value) => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  return { params, bind };
}

function whereClause(conditions: string[]): string {
  return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
}

/** Conditions in textual order, so `?` placeholders line up with the parameters. */
function filterConditions(filter: DeviceFilter, dialect: ListDialect, bind: Bind): string[] {
  const where: string[] = [];
  if (filter.hardwareModel !== undefined) where.push(`hardware_model = ${bind(filter.hardwareModel)}`);
  if (filter.firmwareVersion !== undefined) where.push(`firmware_version = ${bind(filter.firmwareVersion)}`);
  if (filter.connectionState !== undefined) where.push(`connection_state = ${bind(filter.connectionState)}`);
  if (filter.tags !== undefined && Object.keys(filter.tags).length > 0) {
    checkTagKeys(filter.tags);
    where.push(...dialect.tagConditions(filter.tags, bind));
  }
  if (filter.where !== undefined) {
    const { query, nowMs } = filter.where;
    where.push(compileWhere(query, { dialect: dialect.query, bind, nowMs }));
  }
  return where;
}

/** True when `key` is in the tag alphabet (the SQLite dialect quotes it inside a JSON path). */
export const isTagKey = (key: string): boolean => tagKeyPattern.test(key);

function checkTagKeys(tags: Record<string, string>): void {
  for (const key of Object.keys(tags)) {
    if (!isTagKey(key)) {
      throw new ValidationError('tag keys are lower-case [a-z0-9_.-], 1-63 chars', { tag: key });
    }
  }
}
