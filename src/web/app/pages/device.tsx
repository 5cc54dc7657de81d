/**
 * One device: who it is, its certificates, updates, configuration, telemetry, jobs and audit
 * trail. Each card asks the API by itself, so a refusal (a role without telemetry:read) or a
 * failure shows in that card and the rest of the page still works.
 */
import { useState } from 'preact/hooks';
import type { Device } from '../../../contracts/device.ts';
import type { PageProps } from '../app.tsx';
import { get } from '../api.ts';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge, PageHeader } from '../ui/layout.tsx';
import { TelemetryChart } from '../ui/telemetry-chart.tsx';
import { DeviceActions } from './device-actions.tsx';
import { DeviceCard } from './device-card.tsx';
import { ConfigCard } from './device-config.tsx';
import { AuditCard, JobsCard, UpdatesCard } from './device-history.tsx';
import { CertificatesCard, IdentityCard } from './device-identity.tsx';

export function DevicePage(props: PageProps) {
  const id = props.params['id'] ?? '';
  const device = useAsync(() => get<Device>(`/api/v1/devices/${encodeURIComponent(id)}`), [id]);
  // Bumped after an operation, so the jobs and audit cards show it.
  const [changes, setChanges] = useState(0);
  // useAsync keeps the previous answer while loading: never show another device's data under this id.
  const d = device.data?.id === id ? device.data : undefined;
  return (
    <>
      <PageHeader
        title={
          <span class="device-heading">
            <span data-testid="device-id" class="mono">
              {id}
            </span>
            {d !== undefined ? <Badge value={d.connectionState} /> : null}
          </span>
        }
        subtitle={
          d === undefined ? (
            <a href="#/devices">← all devices</a>
          ) : (
            <>
              <a href="#/devices">← all devices</a> · last seen{' '}
              <span title={formatTime(d.lastSeenAt)}>
                {d.lastSeenAt === null ? 'never' : formatAgo(d.lastSeenAt)}
              </span>
              {' · '}
              {d.hardwareModel ?? 'unknown model'} · firmware {d.firmwareVersion ?? 'none reported'}
            </>
          )
        }
      >
        <DeviceActions deviceId={id} onStarted={() => setChanges((n) => n + 1)} />
      </PageHeader>
      {device.error !== undefined ? (
        <ErrorBox
          error={device.error}
          title={device.error.status === 404 ? 'No such device:' : 'Could not load the device:'}
        />
      ) : null}
      {d === undefined ? (
        device.error === undefined ? (
          <Loading what="the device" />
        ) : null
      ) : (
        <>
          <div class="grid">
            <IdentityCard device={d} />
            <CertificatesCard deviceId={id} />
          </div>
          <div class="grid">
            <DeviceCard title="Telemetry" testid="card-telemetry" permission="telemetry:read" class="wide">
              <TelemetryChart deviceId={id} />
            </DeviceCard>
          </div>
          <div class="grid">
            <ConfigCard deviceId={id} />
          </div>
          <div class="grid">
            <UpdatesCard deviceId={id} />
            <JobsCard deviceId={id} reloadKey={changes} />
          </div>
          <div class="grid">
            <AuditCard deviceId={id} reloadKey={changes} />
          </div>
        </>
      )}
    </>
  );
}
