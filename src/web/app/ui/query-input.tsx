/**
 * A fleet query box for forms that act on "the devices this query selects" (jobs, bulk config):
 * the input, a hint, and the API's refusal in place (the parser's message ends with the query and
 * a caret under the offending character, so it is shown in monospace). `useDryRun` previews what
 * the operation would reach, debounced, and says whether its answer belongs to the current form.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { formatNumber } from './format.ts';

/** `1 device`, `1,200 devices`. */
export const devicesText = (count: number): string =>
  `${formatNumber(count)} ${count === 1 ? 'device' : 'devices'}`;

/** True for the API's refusal of a fleet query (it carries the parse position). */
export function isQueryError(error: ApiError | undefined): boolean {
  return error !== undefined && error.status === 400 && error.details?.['position'] !== undefined;
}

export function QueryError(props: { error: ApiError | undefined }) {
  const { error } = props;
  if (error === undefined) return null;
  const [first, ...rest] = error.message.split('\n');
  return (
    <div class="error-box query-error" role="alert" data-testid="query-error">
      <strong>The query is refused</strong> <span class="error-message">{first}</span>
      {rest.length > 0 ? <pre>{rest.join('\n')}</pre> : null}
    </div>
  );
}

export interface QueryInputProps {
  value: string;
  onInput(value: string): void;
  /** The API's refusal; shown under the box when it is about the query. */
  error?: ApiError | undefined;
  label?: ComponentChildren;
  hint?: ComponentChildren;
  /** The input's name (forms and tests select `input[name="where"]`). */
  name?: string;
  placeholder?: string;
}

export function QueryInput(props: QueryInputProps) {
  const queryError = isQueryError(props.error) ? props.error : undefined;
  return (
    <div class="query-input">
      <label>
        {props.label ?? 'Devices (fleet query)'}
        <input
          type="text"
          name={props.name ?? 'where'}
          class="mono"
          value={props.value}
          placeholder={props.placeholder ?? 'model = "tracker-2" and tag.env = "staging"'}
          spellcheck={false}
          autoComplete="off"
          aria-invalid={queryError !== undefined}
          onInput={(event) => props.onInput(event.currentTarget.value)}
        />
      </label>
      <p class="muted hint">
        {props.hint ?? (
          <>
            For example <code>status = "offline"</code>, <code>battery {'<'} 20</code>,{' '}
            <code>firmware {'<'} 2.0.0</code>, <code>tag.site = "berlin"</code>, <code>group = "beta"</code>.
          </>
        )}
      </p>
      <QueryError error={queryError} />
    </div>
  );
}

/** `value`, once it stopped changing for `delayMs`. */
export function useDebounced<T>(value: T, delayMs = 350): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export interface DryRun<T> {
  /** The answer for the current `key` (undefined while typing, loading or refused). */
  result: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
}

/**
 * Runs `run` once `key` (the serialised form) settles; undefined `key` runs nothing. An answer
 * only counts while the form still has the key it was asked for, so "confirm" can never act on
 * a count the operator did not see.
 */
export function useDryRun<T>(key: string | undefined, run: () => Promise<T>): DryRun<T> {
  const settled = useDebounced(key);
  const [state, setState] = useState<{ key?: string; result?: T; error?: ApiError; loading: boolean }>({
    loading: false,
  });
  const latest = useRef<string | undefined>(undefined);
  useEffect(() => {
    latest.current = settled;
    if (settled === undefined) {
      setState({ loading: false });
      return;
    }
    setState({ key: settled, loading: true });
    run().then(
      (result) => {
        if (latest.current === settled) setState({ key: settled, result, loading: false });
      },
      (err: unknown) => {
        if (latest.current !== settled) return;
        const error =
          err instanceof ApiError ? err : new ApiError(0, 'client', (err as Error).message, undefined);
        setState({ key: settled, error, loading: false });
      },
    );
    // `run` reads the form that `key` serialises.
  }, [settled]);
  const current = key !== undefined && state.key === key;
  return {
    result: current ? state.result : undefined,
    error: current ? state.error : undefined,
    loading: key !== settled || state.loading,
  };
}
