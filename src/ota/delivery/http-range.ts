/** HTTP Range requests (RFC 9110 §14) for resumable downloads. Pure. */

export type RangeResult =
  /** No usable Range header: send the whole representation (200). */
  | { kind: 'full' }
  /** One satisfiable byte range, inclusive (206). */
  | { kind: 'partial'; start: number; end: number }
  /** The range lies outside the representation (416 with `Content-Range: bytes *\/size`). */
  | { kind: 'unsatisfiable' };

/**
 * Only single ranges are served; a multi-range request is answered with the whole representation,
 * which RFC 9110 §14.2 allows. Malformed headers are ignored the same way.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return { kind: 'full' };
  return { kind: 'partial', start, end };
}
