/**
 * Rollouts (`#/rollouts`): every staged rollout, newest first, with its stage and, for the active
 * ones, devices per state (from the dashboard overview: one request, not one per row).
 */
import type { PageProps } from '../app.tsx';
import { ApiError, get } from '../api.ts';
import { Link, href, replaceQuery } from '../router.tsx';
import { Can, useSession } from '../session.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge, Card, PageHeader } from '../ui/layout.tsx';
import {
  countsSummary,
  isFinal,
  releaseLabel,
  rolloutStatuses,
  stageProgress,
  stageSize,
  type Rollout,
} from './rollout-format.ts';
import { useInterval } from './rollout-refresh.ts';

/** The API answers at most 1000; a page shows the newest 200. */
const LIST_LIMIT = 200;
const REFRESH_MS = 5000;

/** The part of `GET /api/v1/dashboard/overview` this page reads (devices per state of active rollouts). */
interface OverviewRollouts {
  rollouts: Array<{ id: string; devices: Record<string, number> }>;
}

/** Devices per state by rollout id; empty when the overview is not there (older server) or not allowed. */
async function loadActiveCounts(allowed: boolean): Promise<Map<string, Record<string, number>>> {
  if (!allowed) return new Map();
  try {
    const overview = await get<OverviewRollouts>('/api/v1/dashboard/overview');
    return new Map(overview.rollouts.map((r) => [r.id, r.devices]));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return new Map();
    throw err;
  }
}

export function RolloutsPage(props: PageProps) {
  const session = useSession();
  const status = props.query.get('status') ?? '';
  const list = useAsync(() => get<{ items: Rollout[] }>('/api/v1/rollouts', { limit: LIST_LIMIT }), []);
  const counts = useAsync(() => loadActiveCounts(session.can('devices:read')), []);
  const anyActive = list.data?.items.some((r) => !isFinal(r.state.status)) ?? false;
  useInterval(
    () => {
      list.reload();
      counts.reload();
    },
    REFRESH_MS,
    anyActive,
  );

  const items = (list.data?.items ?? []).filter((r) => status === '' || r.state.status === status);
  return (
    <>
      <PageHeader
        title="Rollouts"
        subtitle="Staged updates of a release: each stage updates more devices once the previous one passed its gates and hold time."
      >
        <label class="inline">
          Status
          <select
            name="status"
            value={status}
            onChange={(e) => replaceQuery({ status: e.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {rolloutStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <Can permission="rollouts:write">
          <a class="button primary" href={href('/rollouts/new')} data-testid="new-rollout">
            New rollout
          </a>
        </Can>
      </PageHeader>
      <ErrorBox error={list.error} title="Could not load the rollouts" />
      <ErrorBox error={counts.error} title="Could not load the device counts" />
      {list.data === undefined ? (
        list.error === undefined ? (
          <Loading what="rollouts" />
        ) : null
      ) : list.data.items.length === 0 ? (
        <EmptyState />
      ) : (
        <Card>
          <RolloutTable items={items} counts={counts.data ?? new Map()} />
          {items.length === 0 ? (
            <p class="muted">No rollout is {status}. Choose “all” to see every rollout.</p>
          ) : null}
          {list.data.items.length >= LIST_LIMIT ? (
            <p class="muted">Showing the newest {LIST_LIMIT} rollouts.</p>
          ) : null}
        </Card>
      )}
    </>
  );
}

function RolloutTable(props: { items: Rollout[]; counts: Map<string, Record<string, number>> }) {
  return (
    <table data-testid="rollout-table">
      <thead>
        <tr>
          <th>Release</th>
          <th>Status</th>
          <th>Stage</th>
          <th>Devices</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((r) => {
          const stage = r.spec.stages[r.state.stageIndex];
          const counts = props.counts.get(r.id);
          return (
            <tr key={r.id} data-rollout-id={r.id}>
              <td>
                <Link to={`/rollouts/${encodeURIComponent(r.id)}`}>{releaseLabel(r)}</Link>
                <div class="muted mono small">{r.id}</div>
              </td>
              <td>
                <Badge value={r.state.status} />
              </td>
              <td>
                {stageProgress(r)}
                {stage === undefined ? null : <span class="muted"> ({stageSize(stage)})</span>}
              </td>
              <td class="rollout-counts">
                {counts !== undefined ? (
                  countsSummary(counts)
                ) : (
                  <span class="muted">
                    {isFinal(r.state.status) ? 'finished: open it for the numbers' : '—'}
                  </span>
                )}
              </td>
              <td title={formatTime(r.createdAtMs)}>
                {formatAgo(r.createdAtMs)}
                <div class="muted small">by {r.createdBy}</div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function EmptyState() {
  return (
    <Card>
      <p>
        <strong>No rollout yet.</strong> A rollout updates the devices of one hardware model to a release,
        stage by stage (for example 1 %, 10 %, 50 %, then all), and pauses by itself when too many devices
        fail.
      </p>
      <p class="muted">
        Start one with <em>New rollout</em>, or with <em>Roll out</em> next to a release on the{' '}
        <a href={href('/firmware')}>Firmware</a> page. From a terminal:{' '}
        <code>flotilla rollout create --model MODEL --version VERSION --dry-run</code>.
      </p>
    </Card>
  );
}
