/**
 * Paging through a list the API answers page by page (`limit` + `nextCursor`): the cursors of the
 * pages seen so far are kept, so "previous" needs no backwards cursor from the API.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface CursorPages {
  /** The cursor of the page shown (undefined: the first). */
  cursor: string | undefined;
  /** 1-based. */
  page: number;
  next: (cursor: string) => void;
  previous: () => void;
}

/** Back to the first page whenever `resetKey` (the filters, the query, the sort) changes. */
export function useCursorPages(resetKey: string): CursorPages {
  const [state, setState] = useState<{ key: string; stack: string[] }>({ key: resetKey, stack: [] });
  // A new key shows page 1 in the same render, so no request goes out with a stale cursor.
  const stack = state.key === resetKey ? state.stack : [];
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (cursor) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.slice(0, -1) }),
  };
}

/** Previous / page N / next; nothing at all for a list that fits one page (unless it has `children`). */
export function Pager(props: {
  pages: CursorPages;
  nextCursor: string | undefined;
  /** Items on this page, shown beside the page number. */
  shown?: number;
  /** Buttons disabled while a page loads. */
  busy?: boolean;
  children?: ComponentChildren;
}) {
  const { pages, nextCursor } = props;
  if (pages.page === 1 && nextCursor === undefined && props.children === undefined) return null;
  const busy = props.busy === true;
  return (
    <div class="pager">
      <button
        type="button"
        data-testid="prev-page"
        disabled={pages.page === 1 || busy}
        onClick={pages.previous}
      >
        ← Previous
      </button>
      <span class="muted" data-testid="page-number">
        Page {pages.page}
        {props.shown === undefined ? null : ` · ${props.shown} shown`}
      </span>
      <button
        type="button"
        data-testid="next-page"
        disabled={nextCursor === undefined || busy}
        onClick={() => nextCursor !== undefined && pages.next(nextCursor)}
      >
        Next →
      </button>
      {props.children}
    </div>
  );
}
