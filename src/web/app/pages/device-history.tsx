/** The device page's history cards: firmware updates, job executions and audit entries. */
import { useEffect } from 'preact/hooks';
import type { z } from 'zod';
import type { deploymentSchema, updateHistorySchema } from '../../../api/routes/deployments.ts';
import type { executionSchema } from '../../../api/routes/jobs.ts';
import type { auditPageSchema } from '../../../api/routes/audit.ts';
import { get } from '../api.ts';
import { useSession } from '../session.tsx';
import { useAsync } from '../ui/async.tsx';
import { Badge } from '../ui/layout.tsx';
import { SortableTable } from '../ui/table.tsx';
import { DeviceCard, Loaded } from './device-card.tsx';
import { Ago } from '../ui/ago.tsx';

type UpdateEvent = z.infer<typeof updateHistorySchema>['items'][number];
type Deployment = z.infer<typeof deploymentSchema>;
type Execution = z.infer<typeof executionSchema>;
type AuditEntry = z.infer<typeof auditPageSchema>['items'][number];

/** Execution states that will still change. */
const unfinished = new Set<string>(['queued', 'sent', 'in-progress']);
/** How often the jobs card asks again while an execution is unfinished. */
const FOLLOW_MS = 3000;

/** Rows shown per card: the newest. */
const RECENT = 20;

const devicePath = (id: string, tail: string) => `/api/v1/devices/${encodeURIComponent(id)}/${tail}`;

/** Newest deployments asked for to name the version of each update (one request, not one per row). */
const DEPLOYMENTS_FOR_VERSIONS = 200;

async function loadUpdates(
  deviceId: string,
): Promise<{ items: UpdateEvent[]; versions: Map<string, string> }> {
  const [history, deployments] = await Promise.all([
    get<{ items: UpdateEvent[] }>(devicePath(deviceId, 'updates'), { limit: RECENT }),
    get<{ items: Deployment[] }>('/api/v1/firmware/deployments', { limit: DEPLOYMENTS_FOR_VERSIONS }).catch(
      () => ({ items: [] }),
    ),
  ]);
  const versions = new Map(deployments.items.map((d) => [d.id, `${d.hardwareModel} ${d.version}`]));
  return { items: history.items, versions };
}

export function UpdatesCard(props: { deviceId: string }) {
  const updates = useAsync(() => loadUpdates(props.deviceId), [props.deviceId]);
  return (
    <DeviceCard title="Firmware updates" testid="card-updates" permission="rollouts:read">
      <Loaded state={updates} what="the update history">
        {(data) => (
          <SortableTable
            columns={[
              { key: 'at', label: 'When', render: (u) => <Ago at={u.at} /> },
              {
                key: 'version',
                label: 'Release',
                render: (u) =>
                  data.versions.get(u.deploymentId) ?? <span class="muted">{u.deploymentId}</span>,
              },
              { key: 'state', label: 'State', render: (u) => <Badge value={u.state} /> },
              {
                key: 'reason',
                label: 'Reason',
                render: (u) =>
                  u.reason === null ? '' : `${u.reason}${u.detail === null ? '' : `: ${u.detail}`}`,
              },
            ]}
            rows={data.items}
            rowKey={(u) => String(u.id)}
            empty="No update offered to this device yet. Updates come from rollouts (Firmware → release → roll out)."
          />
        )}
      </Loaded>
    </DeviceCard>
  );
}

export function JobsCard(props: { deviceId: string; reloadKey: number }) {
  const session = useSession();
  const jobs = useAsync(
    () => get<{ items: Execution[] }>(devicePath(props.deviceId, 'jobs'), { limit: RECENT }),
    [props.deviceId, props.reloadKey],
  );
  // Follow executions still on their way (sent, in progress) until they finish.
  const running = jobs.data?.items.some((e) => unfinished.has(e.state)) === true;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(() => jobs.reload(), FOLLOW_MS);
    return () => clearTimeout(timer);
  }, [running, jobs.data]);
  return (
    <DeviceCard title="Jobs" testid="card-jobs" permission="jobs:read">
      <Loaded state={jobs} what="jobs">
        {(data) => (
          <SortableTable
            columns={[
              {
                key: 'job',
                label: 'Job',
                render: (e) => (
                  <a href={`#/jobs/${encodeURIComponent(e.jobId)}`} class="mono">
                    {e.jobId}
                  </a>
                ),
              },
              { key: 'state', label: 'State', render: (e) => <Badge value={e.state} /> },
              { key: 'attempt', label: 'Attempt', render: (e) => e.attempt },
              {
                key: 'result',
                label: 'Result',
                render: (e) => [e.code, e.message].filter((v) => v !== null).join(': '),
              },
              { key: 'updated', label: 'Updated', render: (e) => <Ago at={e.updatedAtMs} /> },
            ]}
            rows={data.items}
            rowKey={(e) => e.id}
            empty={
              session.can('jobs:write')
                ? 'No job has run on this device. Reboot or Run self-test (top right) start one.'
                : 'No job has run on this device.'
            }
          />
        )}
      </Loaded>
    </DeviceCard>
  );
}

export function AuditCard(props: { deviceId: string; reloadKey: number }) {
  const audit = useAsync(
    () => get<{ items: AuditEntry[] }>('/api/v1/audit', { target: props.deviceId, limit: RECENT }),
    [props.deviceId, props.reloadKey],
  );
  return (
    <DeviceCard title="Audit log" testid="card-audit" permission="audit:read" class="wide">
      <Loaded state={audit} what="audit entries">
        {(data) => (
          <SortableTable
            columns={[
              { key: 'at', label: 'When', render: (a) => <Ago at={a.at} /> },
              { key: 'action', label: 'Action', render: (a) => <code>{a.action}</code> },
              { key: 'actor', label: 'Who', render: (a) => a.actor },
              { key: 'source', label: 'From', render: (a) => <span class="muted">{a.source}</span> },
            ]}
            rows={data.items}
            rowKey={(a) => String(a.id)}
            empty="Nothing recorded about this device yet."
          />
        )}
      </Loaded>
    </DeviceCard>
  );
}
