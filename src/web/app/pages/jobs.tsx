/**
 * Jobs (`#/jobs`): remote operations on sets of devices, newest first, a page at a time, and the
 * form that starts one (job-form.tsx). One job's page is job-detail.tsx.
 */
import { useState } from 'preact/hooks';
import { get } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { href, replaceQuery } from '../router.tsx';
import { Can } from '../session.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { Pager, useCursorPages } from '../ui/cursor-pager.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge, Card, PageHeader } from '../ui/layout.tsx';
import { NewJobForm } from './job-form.tsx';
import { operationLabel, targetSummary, type Job } from './job-summary.ts';

export { JobPage } from './job-detail.tsx';

const PAGE_SIZE = 50;
const stateChoices = ['', 'scheduled', 'in-progress', 'completed', 'aborted', 'cancelled'] as const;

export function JobsPage(props: PageProps) {
  const state = props.query.get('state') ?? '';
  const [creating, setCreating] = useState(false);
  const pages = useCursorPages(state);
  const list = useAsync(
    () =>
      get<{ items: Job[]; nextCursor?: string }>('/api/v1/jobs', {
        state,
        limit: PAGE_SIZE,
        cursor: pages.cursor,
      }),
    [state, pages.cursor],
  );
  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Remote operations (reboot, self-test, logs, …) on the devices a fleet query selects."
      >
        <button type="button" onClick={() => list.reload()} disabled={list.loading}>
          Refresh
        </button>
        <Can permission="jobs:write">
          <button type="button" class="primary" data-testid="new-job" onClick={() => setCreating(true)}>
            New job
          </button>
        </Can>
      </PageHeader>
      {creating ? <NewJobForm onClose={() => setCreating(false)} /> : null}
      <Card>
        <div class="row">
          <label>
            State
            <select
              name="state"
              value={state}
              onChange={(e) => replaceQuery({ state: e.currentTarget.value })}
            >
              {stateChoices.map((value) => (
                <option key={value} value={value}>
                  {value === '' ? 'Any state' : value}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorBox error={list.error} title="Could not load the jobs" />
        {list.data === undefined ? (
          list.error === undefined ? (
            <Loading what="jobs" />
          ) : null
        ) : list.data.items.length === 0 ? (
          <p class="muted empty">
            No jobs{state !== '' ? ` in state ${state}` : ''} yet. A job runs one operation on the devices a
            query selects; start one with “New job”.
          </p>
        ) : (
          <JobTable items={list.data.items} />
        )}
        <Pager pages={pages} nextCursor={list.data?.nextCursor} shown={list.data?.items.length ?? 0} />
      </Card>
    </>
  );
}

function JobTable(props: { items: Job[] }) {
  return (
    <div class="table-scroll">
      <table data-testid="job-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Command</th>
            <th>Target</th>
            <th>Status</th>
            <th title="Devices the job was created for">Devices</th>
            <th>Created</th>
            <th>Finished</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((job) => (
            <tr key={job.id} data-job-id={job.id}>
              <td>
                <a href={href(`/jobs/${encodeURIComponent(job.id)}`)}>{job.id}</a>
                {job.spec.description !== undefined ? <div class="muted">{job.spec.description}</div> : null}
              </td>
              <td>
                <code>{operationLabel(job.spec)}</code>
              </td>
              <td>
                <code class="target">{targetSummary(job.spec.target)}</code>
              </td>
              <td>
                <Badge value={job.state} />
                {job.reason !== null ? <div class="muted">{job.reason}</div> : null}
              </td>
              <td class="num">{job.deviceCount}</td>
              <td title={formatTime(job.createdAtMs)}>
                {formatAgo(job.createdAtMs)}
                <div class="muted">by {job.createdBy}</div>
              </td>
              <td>{job.finishedAtMs === null ? '—' : formatAgo(job.finishedAtMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
