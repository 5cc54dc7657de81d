/**
 * Sorted device lists (`GET /api/v1/devices?sort=`): keyset pages on (sort key, id), built once for
 * both SQL dialects. Devices without a value (no firmware, model or last-seen yet) come last in
 * both directions; ties are broken by id in the sort's direction. Each page runs two index-ordered
 * reads (devices with a value, then those without), each stopping after `limit + 1` rows, so a deep
 * page costs what the first one does. The cursor is opaque: base64url of `[sort, value, id]`.
 */
import { ValidationError } from '../infra/errors.ts';
import type { Device } from '../contracts/device.ts';
import type { Bind } from './list-query.ts';
import type { Page } from './types.ts';

export const deviceSorts = [
  'id',
  '-id',
  'lastSeen',
  '-lastSeen',
  'firmware',
  '-firmware',
  'model',
  '-model',
  'state',
  '-state',
] as const;
export type DeviceSort = (typeof deviceSorts)[number];

/** How a sort key's values are held: text (byte order in both dialects), a time, or a short enum. */
export type SortKind = 'text' | 'time' | 'enum';

interface SortKey {
  column: string;
  kind: SortKind;
  nullable: boolean;
  /** The key's value of a device (ms for times), as the cursor stores it. */
  valueOf(device: Device): string | number | null;
}

const sortKeys: Record<string, SortKey> = {
  lastSeen: {
    column: 'last_seen_at',
    kind: 'time',
    nullable: true,
    valueOf: (d) => (d.lastSeenAt === null ? null : Date.parse(d.lastSeenAt)),
  },
  firmware: {
    column: 'firmware_version',
    kind: 'text',
    nullable: true,
    valueOf: (d) => d.firmwareVersion,
  },
  model: { column: 'hardware_model', kind: 'text', nullable: true, valueOf: (d) => d.hardwareModel },
  state: { column: 'connection_state', kind: 'enum', nullable: false, valueOf: (d) => d.connectionState },
};

/** What differs between the dialects for sorting. */
export interface SortDialect {
  /** The column as an ORDER BY / comparison expression (PostgreSQL adds COLLATE "C" to text). */
  sortExpression(column: string, kind: SortKind): string;
  /** A cursor value bound for comparison with the column. */
  sortValue(value: string | number, kind: SortKind, bind: Bind): string;
}

interface ParsedSort {
  key: SortKey | undefined;
  descending: boolean;
}

function parseSort(sort: DeviceSort): ParsedSort {
  const descending = sort.startsWith('-');
  const name = descending ? sort.slice(1) : sort;
  return { key: name === 'id' ? undefined : sortKeys[name], descending };
}

interface SortCursor {
  value: string | number | null;
  id: string;
}

export function encodeSortCursor(sort: DeviceSort, value: string | number | null, id: string): string {
  return Buffer.from(JSON.stringify([sort, value, id]), 'utf8').toString('base64url');
}

/** ValidationError when the cursor was not made by this module for this sort. */
export function decodeSortCursor(sort: DeviceSort, cursor: string): SortCursor {
  const invalid = () =>
    new ValidationError('malformed page cursor (or one of another sort order)', { cursor });
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalid();
  const [cursorSort, value, id] = decoded as unknown[];
  const { key } = parseSort(sort);
  const valueOk =
    key === undefined
      ? value === null
      : (value === null && key.nullable) ||
        (key.kind === 'time' ? Number.isSafeInteger(value) : typeof value === 'string');
  if (cursorSort !== sort || typeof id !== 'string' || id === '' || !valueOk) throw invalid();
  return { value: value as string | number | null, id };
}

/** Turns the `limit + 1` rows fetched into a page whose cursor holds the last item's sort value and id. */
export function toSortedPage(items: Device[], limit: number, sort: DeviceSort): Page<Device> {
  const kept = items.slice(0, limit);
  const last = kept.at(-1);
  if (items.length <= limit || last === undefined) return { items: kept };
  const value = parseSort(sort).key?.valueOf(last) ?? null;
  return { items: kept, nextCursor: encodeSortCursor(sort, value, last.id) };
}

export interface SortedSelect {
  /** Column list of every SELECT. */
  columns: string;
  /** Filter conditions (bound anew on every call: each read has its own copy). */
  filters: () => string[];
  limit: number;
}

/**
 * The SELECT of a page in `sort` order after `cursor` (absent: the first page). Placeholders are
 * bound in textual order through `bind`.
 */
export function sortedSelect(
  sort: DeviceSort,
  cursor: string | undefined,
  select: SortedSelect,
  dialect: SortDialect,
  bind: Bind,
): string {
  const after = cursor === undefined ? undefined : decodeSortCursor(sort, cursor);
  const { key, descending } = parseSort(sort);
  const dir = descending ? 'DESC' : 'ASC';
  const cmp = descending ? '<' : '>';
  const limit = (): string => bind(select.limit + 1);
  const where = (conditions: string[]) => (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '');

  if (key === undefined) {
    const conditions = [...(after ? [`id ${cmp} ${bind(after.id)}`] : []), ...select.filters()];
    return `SELECT ${select.columns} FROM devices${where(conditions)} ORDER BY id ${dir} LIMIT ${limit()}`;
  }
  const column = dialect.sortExpression(key.column, key.kind);
  const valued = (): string => {
    const conditions: string[] = [];
    if (key.nullable) conditions.push(`${key.column} IS NOT NULL`);
    if (after !== undefined && after.value !== null) {
      const value = dialect.sortValue(after.value, key.kind, bind);
      conditions.push(`(${column}, id) ${cmp} (${value}, ${bind(after.id)})`);
    }
    conditions.push(...select.filters());
    return `SELECT ${select.columns} FROM devices${where(conditions)} ORDER BY ${column} ${dir}, id ${dir} LIMIT ${limit()}`;
  };
  if (!key.nullable) return valued();
  const nulls = (): string => {
    const conditions = [`${key.column} IS NULL`];
    if (after !== undefined && after.value === null) conditions.push(`id ${cmp} ${bind(after.id)}`);
    conditions.push(...select.filters());
    return `SELECT ${select.columns} FROM devices${where(conditions)} ORDER BY id ${dir} LIMIT ${limit()}`;
  };
  // A cursor among the devices without a value: the valued ones are all behind it.
  if (after !== undefined && after.value === null) return nulls();
  // Each read is a derived table so its ORDER BY/LIMIT is allowed in a UNION in both dialects;
  // the outer ORDER BY makes the concatenation order explicit (it sorts at most 2 × (limit + 1) rows).
  return (
    `SELECT ${select.columns} FROM (` +
    `SELECT 0 AS segment, valued.* FROM (${valued()}) AS valued UNION ALL ` +
    `SELECT 1 AS segment, unvalued.* FROM (${nulls()}) AS unvalued` +
    `) AS page ORDER BY segment, ${column} ${dir}, id ${dir} LIMIT ${limit()}`
  );
}
