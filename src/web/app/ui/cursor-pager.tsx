/**
 * Paging through a list the API answers page by page (`limit` + `nextCursor`): the cursors of the
 * pages seen so far are kept, so "previous" needs no backwards cursor from the API.
 */
import { useEffect, useState } from 'preact/hooks';

export interface CursorPages {
  /** The cursor of the page shown (undefined: the first). */
  cursor: string | undefined;
  /** 1-based. */
  page: number;
  next: (cursor: string) => void;
  previous: () => void;
}

/** Back to the first page whenever `resetKey` (the filters) changes. */
export function useCursorPages(resetKey: string): CursorPages {
  const [stack, setStack] = useState<string[]>([]);
  useEffect(() => setStack([]), [resetKey]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => s.slice(0, -1)),
  };
}

export function Pager(props: { pages: CursorPages; nextCursor: string | undefined; shown: number }) {
  const { pages, nextCursor } = props;
  if (pages.page === 1 && nextCursor === undefined) return null;
  return (
    <div class="pager">
      <button type="button" disabled={pages.page === 1} onClick={pages.previous}>
        ← Previous
      </button>
      <span class="muted">
        Page {pages.page} · {props.shown} shown
      </span>
      <button
        type="button"
        disabled={nextCursor === undefined}
        onClick={() => nextCursor !== undefined && pages.next(nextCursor)}
      >
        Next →
      </button>
    </div>
  );
}
