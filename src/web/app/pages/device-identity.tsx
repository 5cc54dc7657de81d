/** The device page's identity and certificate cards. */
import type { ComponentChildren } from 'preact';
import type { Device } from '../../../contracts/device.ts';
import { get } from '../api.ts';
import { useAsync } from '../ui/async.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge, Card } from '../ui/layout.tsx';
import { SortableTable } from '../ui/table.tsx';
import { DeviceCard, Loaded } from './device-card.tsx';
import { Ago } from '../ui/ago.tsx';

/**
 * One entry of `GET /api/v1/devices/{id}/certificates` (certificateSchema in api/routes/provisioning.ts,
 * declared here: that module pulls the PKI code into the web app's type check).
 */
interface Certificate {
  serial: string;
  issuedAt: string;
  notAfter: string;
  revokedAt: string | null;
  revocationReason: string | null;
}

const DAY_MS = 86_400_000;
/** A certificate this close to its end counts as expiring (renewal should have happened). */
const EXPIRING_DAYS = 30;

function Fact(props: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

export function IdentityCard(props: { device: Device }) {
  const d = props.device;
  const tags = Object.entries(d.tags);
  return (
    <Card title="Identity" testid="card-identity">
      <dl class="facts">
        <Fact label="Model">{d.hardwareModel ?? '—'}</Fact>
        <Fact label="Hardware revision">{d.hardwareRevision ?? '—'}</Fact>
        <Fact label="Serial">
          <span class="mono">{d.serial}</span>
        </Fact>
        <Fact label="Firmware">
          {d.firmwareVersion === null ? (
            'none reported'
          ) : (
            <a
              href={`#/devices?where=${encodeURIComponent(`firmware = ${JSON.stringify(d.firmwareVersion)}`)}`}
            >
              {d.firmwareVersion}
            </a>
          )}
        </Fact>
        <Fact label="Owner">{d.owner ?? <span class="muted">unclaimed</span>}</Fact>
        <Fact label="Region">{d.region ?? '—'}</Fact>
        <Fact label="Tags">
          {tags.length === 0 ? (
            '—'
          ) : (
            <span class="tags">
              {tags.map(([k, v]) => (
                <span class="tag" key={k}>
                  {k}={v}
                </span>
              ))}
            </span>
          )}
        </Fact>
        <Fact label="Registered">
          <Ago at={d.createdAt} />
        </Fact>
        <Fact label="Connection changed">
          <Ago at={d.connectionChangedAt} />
        </Fact>
      </dl>
    </Card>
  );
}

function certificateStatus(c: Certificate, nowMs: number): { label: string; kind: string } {
  if (c.revokedAt !== null) return { label: 'revoked', kind: 'revoked' };
  const left = new Date(c.notAfter).getTime() - nowMs;
  if (left <= 0) return { label: 'expired', kind: 'failed' };
  if (left < EXPIRING_DAYS * DAY_MS) return { label: 'expiring', kind: 'warning' };
  return { label: 'valid', kind: 'valid' };
}

export function CertificatesCard(props: { deviceId: string }) {
  const certs = useAsync(
    () => get<{ items: Certificate[] }>(`/api/v1/devices/${encodeURIComponent(props.deviceId)}/certificates`),
    [props.deviceId],
  );
  const nowMs = Date.now();
  return (
    <DeviceCard title="Certificates" testid="card-certificates" permission="provisioning:read">
      <Loaded state={certs} what="certificates">
        {(data) => (
          <SortableTable
            columns={[
              { key: 'serial', label: 'Serial', render: (c) => <span class="mono">{c.serial}</span> },
              { key: 'issued', label: 'Issued', render: (c) => formatTime(c.issuedAt) },
              {
                key: 'notAfter',
                label: 'Not after',
                render: (c) => <span title={formatAgo(c.notAfter)}>{formatTime(c.notAfter)}</span>,
              },
              {
                key: 'status',
                label: 'Status',
                render: (c) => {
                  const status = certificateStatus(c, nowMs);
                  return (
                    <span title={c.revocationReason ?? undefined}>
                      <Badge value={status.label} kind={status.kind} />
                    </span>
                  );
                },
              },
            ]}
            rows={data.items}
            rowKey={(c) => c.serial}
            empty="No certificate issued: the device was registered without provisioning (e.g. a simulated device)."
          />
        )}
      </Loaded>
    </DeviceCard>
  );
}
