/**
 * The device list: a fleet query (kept in the URL, so it survives reload and back), the number of
 * matching devices, and one page of 50 at a time, sorted by the API. Two requests per query (the
 * page and the count) whatever the fleet's size.
 */
import type { Device } from '../../../contracts/device.ts';
import type { PageProps } from '../app.tsx';
import { get } from '../api.ts';
import { navigate } from '../router.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatAgo, formatNumber, formatTime } from '../ui/format.ts';
import { Badge, PageHeader } from '../ui/layout.tsx';
import { Pager, useCursorPages } from '../ui/cursor-pager.tsx';
import { SortableTable, type Column } from '../ui/table.tsx';
import { QueryBox } from './device-query.tsx';

const PAGE_SIZE = 50;
/** The API's own order; not sent, so a server without `sort` still answers. */
const DEFAULT_SORT = 'id';

function Tags(props: { tags: Record<string, string> }) {
  const entries = Object.entries(props.tags);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <span class="tags">
      {entries.map(([key, value]) => (
        <span class="tag" key={key}>
          {key}={value}
        </span>
      ))}
    </span>
  );
}

const columns: ReadonlyArray<Column<Device>> = [
  {
    key: 'id',
    label: 'Device',
    sortable: true,
    render: (d) => <a href={`#/devices/${encodeURIComponent(d.id)}`}>{d.id}</a>,
    class: 'mono',
  },
  { key: 'model', label: 'Model', sortable: true, render: (d) => d.hardwareModel ?? '—' },
  {
    key: 'firmware',
    label: 'Firmware',
    sortable: true,
    render: (d) => d.firmwareVersion ?? <span class="muted">none reported</span>,
    class: 'mono',
  },
  { key: 'state', label: 'State', sortable: true, render: (d) => <Badge value={d.connectionState} /> },
  {
    key: 'lastSeen',
    label: 'Last seen',
    sortable: true,
    render: (d) => (
      <span title={formatTime(d.lastSeenAt)}>
        {d.lastSeenAt === null ? 'never' : formatAgo(d.lastSeenAt)}
      </span>
    ),
  },
  { key: 'region', label: 'Region', render: (d) => d.region ?? '—' },
  { key: 'tags', label: 'Tags', render: (d) => <Tags tags={d.tags} /> },
];

export function DevicesPage(props: PageProps) {
  const where = props.query.get('where') ?? '';
  const sort = props.query.get('sort') ?? DEFAULT_SORT;
  const pages = useCursorPages(`${where}\n${sort}`);
  const list = useAsync(
    () =>
      get<{ items: Device[]; nextCursor?: string }>('/api/v1/devices', {
        where,
        sort: sort === DEFAULT_SORT ? undefined : sort,
        limit: PAGE_SIZE,
        cursor: pages.cursor,
      }),
    [where, sort, pages.cursor],
  );
  const count = useAsync(() => get<{ count: number }>('/api/v1/devices/count', { where }), [where]);
  const go = (next: { where?: string; sort?: string }) =>
    navigate('/devices', {
      where: next.where ?? where,
      sort: (next.sort ?? sort) === DEFAULT_SORT ? undefined : (next.sort ?? sort),
    });
  // A refused query fails both requests with the same message: show it once, at the query box.
  const queryError = [list.error, count.error].find((e) => e?.details?.['position'] !== undefined);
  const rows = list.error === undefined ? (list.data?.items ?? []) : [];
  return (
    <>
      <PageHeader
        title="Devices"
        subtitle="Choose devices with a fleet query; click a column header to sort, a device to open it."
      />
      <QueryBox
        where={where}
        error={queryError}
        onRun={(next) => {
          // The same query again refreshes (devices come and go); a new one is a new URL.
          if (next !== where) go({ where: next });
          else {
            list.reload();
            count.reload();
          }
        }}
      />
      <p class="device-count">
        <strong data-testid="device-count">
          {count.error !== undefined ? '—' : count.data !== undefined ? formatNumber(count.data.count) : '…'}
        </strong>{' '}
        {where === '' ? 'devices in the fleet' : 'devices match this query'}
        {list.loading ? <span class="muted"> · loading…</span> : null}
      </p>
      {list.error !== undefined && list.error !== queryError ? <ErrorBox error={list.error} /> : null}
      {count.error !== undefined && count.error.details?.['position'] === undefined ? (
        <ErrorBox error={count.error} title="Counting failed:" />
      ) : null}
      {list.data === undefined && list.error === undefined ? (
        <Loading what="devices" />
      ) : (
        <SortableTable
          testid="device-table"
          columns={columns}
          rows={rows}
          rowKey={(d) => d.id}
          rowAttrs={(d) => ({ 'data-device-id': d.id })}
          sort={sort}
          onSort={(next) => go({ sort: next })}
          empty={
            list.error !== undefined
              ? 'The list could not be loaded: see the message above.'
              : where === ''
                ? 'No devices registered yet. Start the server with --demo-devices 30 to see a simulated fleet.'
                : 'No device matches this query. Loosen a condition, or clear the query to see every device.'
          }
        />
      )}
      <Pager
        pages={pages}
        nextCursor={list.error === undefined ? list.data?.nextCursor : undefined}
        busy={list.loading}
      >
        <span class="muted">{PAGE_SIZE} per page</span>
      </Pager>
    </>
  );
}
