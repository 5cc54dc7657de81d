/**
 * Keyset paging shared by every store: results are ordered by id, and a cursor is the opaque
 * (base64url) id of the last item on the previous page, so the next page is "id > cursor".
 */
import { ValidationError } from '../infra/errors.ts';
import type { Page } from './types.ts';

export const maxPageLimit = 1000;

export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** The id a cursor stands for; ValidationError when it is not one this module produced. */
export function decodeCursor(cursor: string): string {
  // Buffer.from(…, 'base64url') silently skips bad characters, so insist on the canonical form.
  const id = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (id === '' || encodeCursor(id) !== cursor) {
    throw new ValidationError('malformed page cursor', { cursor });
  }
  return id;
}

/** ValidationError unless 1 <= limit <= maxPageLimit. */
export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageLimit) {
    throw new ValidationError(`page limit must be an integer from 1 to ${maxPageLimit}`, { limit });
  }
}

/**
 * Turns the `limit + 1` rows a store fetched into a page: the extra row only proves that more
 * follow, so it is dropped and the cursor points at the last row kept.
 */
export function toPage<R extends { id: string }, T>(
  rows: R[],
  limit: number,
  toItem: (row: R) => T,
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  const items = kept.map(toItem);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.id) } : { items };
}
