/** Loading data for a page: one hook, one way to show "loading" and one way to show an error. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';

export interface Async<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again (after an operation changed the data). */
  reload(): void;
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, 'client', (err as Error).message, undefined);
}

/** Runs `load` now and whenever `deps` change; a stale answer never overwrites a newer one. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (mine === generation.current) setState({ data, loading: false });
      },
      (err: unknown) => {
        if (mine === generation.current)
          setState((s) => ({ data: s.data, error: asApiError(err), loading: false }));
      },
    );
    // eslint-style deps: the caller lists what `load` reads.
  }, deps);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

/** Runs an operation (a button), remembering whether it runs and how it failed. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): { run: (...args: A) => Promise<boolean>; busy: boolean; error: ApiError | undefined; clear(): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = async (...args: A): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await action(...args);
      return true;
    } catch (err) {
      setError(asApiError(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(undefined) };
}

export function ErrorBox(props: { error: ApiError | undefined; title?: string }) {
  const { error } = props;
  if (error === undefined) return null;
  const position = error.details?.['position'];
  return (
    <div class="error-box" role="alert">
      <strong>{props.title ?? 'Refused'}</strong> <span class="error-message">{error.message}</span>
      {typeof position === 'number' ? <span class="muted"> (at character {position + 1})</span> : null}
      {error.status > 0 ? (
        <span class="muted">
          {' '}
          · HTTP {error.status} {error.code}
        </span>
      ) : null}
    </div>
  );
}

export function Loading(props: { what?: string }) {
  return <p class="muted loading">Loading {props.what ?? ''}…</p>;
}
