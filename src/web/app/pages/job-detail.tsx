/**
 * One job (`#/jobs/:id`): its status and settings, a progress bar of its executions per state,
 * the executions a page at a time (device, state, attempts, outcome, log bundle), and cancel.
 * While the job is scheduled or running the page refreshes itself every 3 seconds.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { z } from 'zod';
import type { executionSchema, jobViewSchema } from '../../../api/routes/jobs.ts';
import { get, post } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { href, replaceQuery } from '../router.tsx';
import { Can } from '../session.tsx';
import { ErrorBox, Loading, useAction, useAsync } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { Pager, useCursorPages } from '../ui/cursor-pager.tsx';
import { formatAgo, formatBytes, formatNumber, formatTime } from '../ui/format.ts';
import { Badge, Card, PageHeader } from '../ui/layout.tsx';
import { operationLabel, targetSummary } from './job-summary.ts';

type JobView = z.infer<typeof jobViewSchema>;
type Execution = z.infer<typeof executionSchema>;

const REFRESH_MS = 3000;
const PAGE_SIZE = 100;
const executionStates = [
  'succeeded',
  'in-progress',
  'sent',
  'queued',
  'failed',
  'timed-out',
  'cancelled',
] as const;

export function JobPage(props: PageProps) {
  const id = props.params['id'] ?? '';
  const path = `/api/v1/jobs/${encodeURIComponent(id)}`;
  const stateFilter = props.query.get('state') ?? '';
  const pages = useCursorPages(stateFilter);
  const view = useAsync(() => get<JobView>(path), [path]);
  const executions = useAsync(
    () =>
      get<{ items: Execution[]; nextCursor?: string }>(`${path}/executions`, {
        state: stateFilter,
        limit: PAGE_SIZE,
        cursor: pages.cursor,
      }),
    [path, stateFilter, pages.cursor],
  );
  const job = view.data?.job;
  const active = job !== undefined && (job.state === 'scheduled' || job.state === 'in-progress');
  // The interval calls the latest loaders (the page or filter may have changed since it started).
  const refresh = useRef(() => {});
  refresh.current = () => {
    view.reload();
    executions.reload();
  };
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => refresh.current(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [active]);

  const confirm = useConfirm();
  const cancel = useAction(async () => {
    if (view.data === undefined) return;
    const running = view.data.counts['in-progress'] ?? 0;
    const ok = await confirm.ask({
      title: `Cancel job ${id}?`,
      body: (
        <p>
          Executions not yet sent or not yet started are cancelled.
          {running > 0 ? ` ${running} already running keep running; their outcome is still recorded.` : ''}
        </p>
      ),
      confirmLabel: 'Cancel job',
      danger: true,
    });
    if (!ok) return;
    await post(`${path}/cancel`);
    view.reload();
    executions.reload();
  });

  if (view.error !== undefined && view.data === undefined)
    return (
      <>
        <PageHeader title={`Job ${id}`} subtitle={<a href="#/jobs">← All jobs</a>} />
        <ErrorBox error={view.error} title="Could not load the job" />
      </>
    );
  if (view.data === undefined || job === undefined) return <Loading what="the job" />;
  return (
    <>
      <PageHeader
        title={
          <>
            Job {job.id} <Badge value={job.state} />
          </>
        }
        subtitle={
          <>
            <a href="#/jobs">← All jobs</a>
            {active ? ' · refreshing every 3 s' : null}
          </>
        }
      >
        <Can permission="jobs:write">
          {active ? (
            <button
              type="button"
              class="danger"
              data-testid="job-cancel"
              disabled={cancel.busy}
              onClick={() => void cancel.run()}
            >
              Cancel job
            </button>
          ) : null}
        </Can>
      </PageHeader>
      <ErrorBox error={cancel.error} title="Not cancelled" />
      <ErrorBox error={view.error} title="Refresh failed" />
      <div class="grid">
        <Card title="Progress">
          <ProgressBar counts={view.data.counts} total={job.deviceCount} />
        </Card>
        <Card title="Job">
          <JobFacts job={job} />
        </Card>
      </div>
      <Card title="Devices" testid="job-executions">
        <div class="row">
          <label>
            State
            <select
              name="execution-state"
              value={stateFilter}
              onChange={(e) => replaceQuery({ state: e.currentTarget.value })}
            >
              <option value="">Any state</option>
              {executionStates.map((s) => (
                <option key={s} value={s}>
                  {s} ({view.data?.counts[s] ?? 0})
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorBox error={executions.error} title="Could not load the executions" />
        {executions.data === undefined ? (
          executions.error === undefined ? (
            <Loading what="executions" />
          ) : null
        ) : executions.data.items.length === 0 ? (
          <p class="muted empty">No executions{stateFilter !== '' ? ` in state ${stateFilter}` : ''}.</p>
        ) : (
          <ExecutionTable jobPath={path} items={executions.data.items} />
        )}
        <Pager
          pages={pages}
          nextCursor={executions.data?.nextCursor}
          shown={executions.data?.items.length ?? 0}
        />
      </Card>
      {confirm.dialog}
    </>
  );
}

function ProgressBar(props: { counts: JobView['counts']; total: number }) {
  const total = Math.max(1, props.total);
  const present = executionStates.filter((s) => (props.counts[s] ?? 0) > 0);
  return (
    <div data-testid="job-progress">
      <div class="progress" role="img" aria-label="Executions per state">
        {present.map((s) => (
          <span
            key={s}
            class={`progress-part progress-${s}`}
            style={{ width: `${((props.counts[s] ?? 0) / total) * 100}%` }}
            title={`${s}: ${props.counts[s] ?? 0}`}
          />
        ))}
      </div>
      <ul class="progress-legend">
        {executionStates.map((s) => (
          <li key={s} data-state={s}>
            <span class={`swatch progress-${s}`} /> {s} <strong>{formatNumber(props.counts[s] ?? 0)}</strong>
          </li>
        ))}
      </ul>
      <p class="muted">{formatNumber(props.total)} devices in this job.</p>
    </div>
  );
}

function JobFacts(props: { job: JobView['job'] }) {
  const { job } = props;
  const { spec } = job;
  return (
    <dl class="facts">
      <dt>Command</dt>
      <dd>
        <code>{operationLabel(spec)}</code>
        {Object.keys(spec.params).length > 0 ? <code> {JSON.stringify(spec.params)}</code> : null}
      </dd>
      <dt>Target</dt>
      <dd>
        <code>{targetSummary(spec.target)}</code>
      </dd>
      {spec.description !== undefined ? (
        <>
          <dt>Description</dt>
          <dd>{spec.description}</dd>
        </>
      ) : null}
      {job.reason !== null ? (
        <>
          <dt>Why it stopped</dt>
          <dd>{job.reason}</dd>
        </>
      ) : null}
      <dt>Created</dt>
      <dd>
        {formatTime(job.createdAtMs)} by {job.createdBy}
      </dd>
      <dt>Started</dt>
      <dd>{job.startedAtMs === null ? 'not yet' : formatTime(job.startedAtMs)}</dd>
      <dt>Finished</dt>
      <dd>{job.finishedAtMs === null ? 'not yet' : formatTime(job.finishedAtMs)}</dd>
      <dt>Pace</dt>
      <dd>
        {spec.rateLimitPerMinute} per minute · timeout {spec.timeoutS} s · {spec.maxRetries} retries
      </dd>
      <dt>Abort</dt>
      <dd>
        {spec.abortAfterFailedPercent === undefined
          ? 'never'
          : `when more than ${spec.abortAfterFailedPercent} % of finished executions failed (after ${spec.minFinished})`}
      </dd>
    </dl>
  );
}

function outcome(execution: Execution): string {
  const parts = [];
  if (execution.code !== null) parts.push(execution.code);
  if (execution.message !== null) parts.push(execution.message);
  if (execution.result !== null) parts.push(JSON.stringify(execution.result));
  return parts.length === 0 ? '—' : parts.join(' · ');
}

function ExecutionTable(props: { jobPath: string; items: Execution[] }) {
  return (
    <div class="table-scroll">
      <table data-testid="execution-table">
        <thead>
          <tr>
            <th>Device</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Result or reason</th>
            <th>Updated</th>
            <th>Logs</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((e) => (
            <tr key={e.id} data-device-id={e.deviceId}>
              <td>
                <a href={href(`/devices/${encodeURIComponent(e.deviceId)}`)}>{e.deviceId}</a>
              </td>
              <td>
                <Badge value={e.state} />
              </td>
              <td class="num">{e.attempt}</td>
              <td class="outcome">{outcome(e)}</td>
              <td title={formatTime(e.updatedAtMs)}>{formatAgo(e.updatedAtMs)}</td>
              <td>
                {e.logFile !== null ? (
                  <a href={`${props.jobPath}/executions/${encodeURIComponent(e.deviceId)}/logs`} download>
                    Download ({formatBytes(e.logBytes)})
                  </a>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
