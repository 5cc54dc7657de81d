/**
 * A table whose headers sort (by asking the API, not by sorting the page in the browser); pages of
 * it go through ui/cursor-pager.tsx.
 */
import type { ComponentChildren } from 'preact';

export interface Column<T> {
  /** Column id; also the API's sort key when `sortable`. */
  key: string;
  label: ComponentChildren;
  sortable?: boolean;
  render(row: T): ComponentChildren;
  class?: string;
}

/** `sort` is the API's sort parameter: `lastSeen` ascending, `-lastSeen` descending. */
export function nextSort(current: string, key: string): string {
  return current === key ? `-${key}` : key;
}

function SortHeader(props: {
  column: string;
  sort: string;
  onSort(sort: string): void;
  label: ComponentChildren;
}) {
  const { column, sort } = props;
  const direction = sort === column ? 'ascending' : sort === `-${column}` ? 'descending' : undefined;
  return (
    <th aria-sort={direction ?? 'none'}>
      <button
        type="button"
        class="sort"
        data-sort={column}
        title="Sort by this column (click again to reverse)"
        onClick={() => props.onSort(nextSort(sort, column))}
      >
        {props.label}
        <span class="sort-mark">
          {direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : ' ↕'}
        </span>
      </button>
    </th>
  );
}

export function SortableTable<T>(props: {
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey(row: T): string;
  /** Extra attributes of each `<tr>`, e.g. `{'data-device-id': id}`. */
  rowAttrs?(row: T): Record<string, string>;
  sort?: string;
  onSort?: (sort: string) => void;
  testid?: string;
  /** Shown in one row when there are no rows. */
  empty?: ComponentChildren;
}) {
  const { columns, sort = '', onSort } = props;
  return (
    <div class="table-wrap">
      <table data-testid={props.testid}>
        <thead>
          <tr>
            {columns.map((c) =>
              c.sortable === true && onSort !== undefined ? (
                <SortHeader key={c.key} column={c.key} sort={sort} onSort={onSort} label={c.label} />
              ) : (
                <th key={c.key}>{c.label}</th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 && props.empty !== undefined ? (
            <tr>
              <td colSpan={columns.length} class="muted empty">
                {props.empty}
              </td>
            </tr>
          ) : null}
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} {...props.rowAttrs?.(row)}>
              {columns.map((c) => (
                <td key={c.key} class={c.class}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
