/**
 * The fleet at a glance: stat tiles, distributions, open alerts, active rollouts and trends. The
 * first paint comes from `GET /api/v1/dashboard/overview`, then the SSE stream replaces it in
 * place.
 */
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import type { ApiError } from '../api.ts';
import { get } from '../api.ts';
import { useLiveEvent } from '../live.ts';
import { useSession } from '../session.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { palette } from '../ui/chart.tsx';
import { formatAgo, formatNumber, formatPct } from '../ui/format.ts';
import { PageHeader, Stat } from '../ui/layout.tsx';
import { AlertsCard, BucketCard, FirmwareCard, RolloutsCard, TrendsCard } from './overview-cards.tsx';
import type { DashboardOverview } from '../../../dashboard/overview-schema.ts';

function useOverview(): { data: DashboardOverview | undefined; error: ApiError | undefined; live: string } {
  const [pushed, setPushed] = useState<DashboardOverview | undefined>(undefined);
  // The first answer and the stream's first event share one computation on the server.
  const loaded = useAsync(() => get<DashboardOverview>('/api/v1/dashboard/overview'), []);
  const live = useLiveEvent<DashboardOverview>('overview', setPushed);
  const newest = pushed !== undefined && pushed.atMs >= (loaded.data?.atMs ?? 0) ? pushed : loaded.data;
  return { data: newest, error: loaded.error, live };
}

function LiveIndicator(props: { state: string; atMs: number | undefined }) {
  const text = props.state === 'live' ? 'live' : 'reconnecting';
  return (
    <span
      class={`live live-${text}`}
      title={props.atMs === undefined ? undefined : `as of ${formatAgo(props.atMs)}`}
    >
      <span data-testid="live">{text}</span>
    </span>
  );
}

export function OverviewPage(_props: PageProps) {
  const session = useSession();
  const { data, error, live } = useOverview();
  const fleet = data?.fleet;
  return (
    <>
      <PageHeader title="Fleet overview" subtitle="Updates by itself while this page is open.">
        <LiveIndicator state={live} atMs={data?.atMs} />
      </PageHeader>
      <ErrorBox error={error} title="The overview could not be loaded:" />
      {data === undefined || fleet === undefined ? (
        error === undefined ? (
          <Loading what="the overview" />
        ) : null
      ) : (
        <>
          <div class="stats">
            <Stat
              testid="stat-total"
              label="devices"
              value={formatNumber(fleet.devices.total)}
              hint={<a href="#/devices">list them →</a>}
            />
            <Stat
              testid="stat-online"
              label="online now"
              value={formatNumber(fleet.devices.online)}
              hint={`${formatNumber(fleet.devices.offline)} offline`}
            />
            <Stat testid="stat-online-pct" label="online" value={formatPct(fleet.devices.onlinePct)} />
            <Stat
              testid="stat-current-pct"
              label="on current release"
              value={formatPct(fleet.firmware.currentPct)}
              hint={`${formatNumber(fleet.firmware.onCurrentRelease)} of ${formatNumber(fleet.firmware.withRelease)} with a release`}
            />
            <Stat
              testid="stat-open-alerts"
              label="open alerts"
              value={session.can('alerts:read') ? formatNumber(data.alerts.open) : '—'}
              hint={
                session.can('alerts:read')
                  ? `${formatNumber(data.alerts.bySeverity.critical)} critical`
                  : 'not permitted'
              }
            />
          </div>
          <div class="grid">
            <FirmwareCard firmware={fleet.firmware} />
            <BucketCard
              title="Battery"
              testid="card-battery"
              unit="%"
              buckets={fleet.battery}
              color={palette[2] ?? '#009E73'}
            />
            <BucketCard
              title="Signal"
              testid="card-signal"
              unit="dBm"
              buckets={fleet.signal}
              color={palette[4] ?? '#56B4E9'}
            />
          </div>
          <div class="grid">
            {session.can('alerts:read') ? <AlertsCard alerts={data.alerts} /> : null}
            {session.can('rollouts:read') ? <RolloutsCard rollouts={data.rollouts} /> : null}
          </div>
          <div class="grid">
            <TrendsCard points={data.trends.points} scoped={data.trends.scoped} />
          </div>
        </>
      )}
    </>
  );
}
