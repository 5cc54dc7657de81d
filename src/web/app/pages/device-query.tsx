/**
 * The fleet query box of the devices page: monospace input, Enter runs, example chips, and the
 * API's refusal shown under it with a caret at the position the parser reported
 * (`details.position.offset`, `details.length`: src/fleet-query/source-error.ts).
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import { ErrorBox } from '../ui/async.tsx';

const examples: ReadonlyArray<[query: string, meaning: string]> = [
  ['status = "offline"', 'offline now'],
  ['battery < 20', 'battery below 20 %'],
  ['firmware < 3.0.0', 'older than 3.0.0 (semver)'],
  ['tag.env = "production" and offline_for > 1h', 'production, offline over an hour'],
];

/** Where the parser pointed, when the refusal says. */
function errorSpan(error: ApiError | undefined): { offset: number; length: number } | undefined {
  const position = error?.details?.['position'];
  if (typeof position !== 'object' || position === null) return undefined;
  const offset = (position as { offset?: unknown }).offset;
  const length = error?.details?.['length'];
  if (typeof offset !== 'number') return undefined;
  return { offset, length: typeof length === 'number' ? length : 1 };
}

export function QueryBox(props: { where: string; error: ApiError | undefined; onRun(where: string): void }) {
  const [draft, setDraft] = useState(props.where);
  // The URL is the truth: back/forward and example chips replace what is typed.
  useEffect(() => setDraft(props.where), [props.where]);
  const span = draft === props.where ? errorSpan(props.error) : undefined;
  return (
    <div class="query-box">
      <form
        class="query-bar"
        onSubmit={(event) => {
          event.preventDefault();
          props.onRun(draft.trim());
        }}
      >
        <div class="query-input-wrap">
          <input
            data-testid="query-input"
            aria-label="Fleet query"
            spellcheck={false}
            autoComplete="off"
            placeholder='e.g. model = "tracker-2" and battery < 20   (empty: every device)'
            value={draft}
            onInput={(event) => setDraft(event.currentTarget.value)}
          />
          {span !== undefined ? (
            <div class="query-caret" aria-hidden="true">
              {' '.repeat(span.offset)}
              {'^'.repeat(Math.max(1, span.length))}
            </div>
          ) : null}
        </div>
        <button type="submit" class="primary" data-testid="query-run">
          Run query
        </button>
        {props.where !== '' ? (
          <button type="button" onClick={() => props.onRun('')}>
            Clear
          </button>
        ) : null}
      </form>
      {props.error !== undefined ? (
        <div data-testid="query-error" class="query-error">
          <ErrorBox error={props.error} title="The query was refused:" />
        </div>
      ) : null}
      <p class="muted query-hint">
        Try:{' '}
        {examples.map(([query, meaning]) => (
          <button
            type="button"
            class="chip"
            key={query}
            title={meaning}
            data-testid="query-example"
            onClick={() => props.onRun(query)}
          >
            {query}
          </button>
        ))}{' '}
        Fields:{' '}
        <code>
          id model revision firmware status online last_seen offline_for age battery signal region owner
          tag.&lt;key&gt; group
        </code>
        ; operators <code>= != &lt; &lt;= &gt; &gt;= in exists and or not</code>.
      </p>
    </div>
  );
}
