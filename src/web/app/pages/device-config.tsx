/**
 * The device page's configuration card: per key what the server wants (effective: fleet < group <
 * device) next to what the device reported, where the wanted value comes from, and whether the
 * key waits for a restart or was rejected. Differences are highlighted.
 */
import type { DeviceConfigView } from '../../../device-config/config-api.ts';
import { get } from '../api.ts';
import { useAsync } from '../ui/async.tsx';
import { formatAgo } from '../ui/format.ts';
import { Badge } from '../ui/layout.tsx';
import { SortableTable } from '../ui/table.tsx';
import { DeviceCard, Loaded } from './device-card.tsx';

interface ConfigRow {
  key: string;
  desired: unknown;
  reported: unknown;
  source: string;
  status: string;
  differs: boolean;
}

const show = (value: unknown): string => (value === undefined ? '—' : JSON.stringify(value));

function sourceText(source: DeviceConfigView['effective']['sources'][string] | undefined): string {
  if (source === undefined) return '';
  return source.kind === 'group' ? `group ${source.name}` : source.kind;
}

function configRows(view: DeviceConfigView): ConfigRow[] {
  const reported = view.reported?.values ?? {};
  const wanted = view.effective.values;
  const pending = new Set(view.pendingRestart);
  const rejected = new Map(view.rejected.map((r) => [r.key, r.reason]));
  const keys = [...new Set([...Object.keys(wanted), ...Object.keys(reported)])].sort();
  return keys.map((key) => {
    const reason = rejected.get(key);
    const status = reason !== undefined ? `rejected: ${reason}` : pending.has(key) ? 'pending restart' : '';
    return {
      key,
      desired: wanted[key],
      reported: reported[key],
      source: sourceText(view.effective.sources[key]),
      status,
      differs: show(wanted[key]) !== show(reported[key]),
    };
  });
}

export function ConfigCard(props: { deviceId: string }) {
  const config = useAsync(
    () => get<DeviceConfigView>(`/api/v1/devices/${encodeURIComponent(props.deviceId)}/config`),
    [props.deviceId],
  );
  return (
    <DeviceCard title="Configuration" testid="card-config" permission="config:read" class="wide">
      <Loaded state={config} what="the configuration">
        {(view) => (
          <>
            <p class="muted card-hint">
              <Badge
                value={view.inSync ? 'in sync' : 'not in sync'}
                kind={view.inSync ? 'success' : 'pending'}
              />{' '}
              desired version {view.desired.version}, sent {view.sent.version}
              {view.reported === null
                ? ', nothing reported yet'
                : `, reported ${view.reported.version} (${formatAgo(view.reported.at)})`}
              . Highlighted rows differ between what the server wants and what the device runs.
            </p>
            <SortableTable
              columns={[
                { key: 'key', label: 'Key', render: (r) => <code>{r.key}</code> },
                { key: 'desired', label: 'Desired', render: (r) => <code>{show(r.desired)}</code> },
                { key: 'reported', label: 'Reported', render: (r) => <code>{show(r.reported)}</code> },
                { key: 'source', label: 'Source', render: (r) => r.source },
                {
                  key: 'status',
                  label: 'Status',
                  render: (r) =>
                    r.status === '' ? null : (
                      <Badge value={r.status} kind={r.status.startsWith('rejected') ? 'failed' : 'pending'} />
                    ),
                },
              ]}
              rows={configRows(view)}
              rowKey={(r) => r.key}
              rowAttrs={(r): Record<string, string> =>
                r.differs ? { class: 'diff', 'data-differs': 'true' } : {}
              }
              empty="No configuration: neither set on the server nor reported by the device."
            />
            {view.effective.conflicts.length > 0 ? (
              <p class="muted card-hint">
                Not sent (the device's schema refuses them):{' '}
                {view.effective.conflicts.map((c) => `${c.key} (${c.reason})`).join(', ')}
              </p>
            ) : null}
          </>
        )}
      </Loaded>
    </DeviceCard>
  );
}
