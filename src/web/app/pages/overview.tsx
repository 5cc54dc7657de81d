/**
 * The fleet at a glance: stat tiles, distributions, open alerts, active rollouts and trends. The
 * first paint comes from `GET /api/v1/dashboard/overview`, then the SSE stream replaces it in
 * place. A server without that route gets the same page built from the older routes, polled.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import { ApiError, get } from '../api.ts';
import { useLiveEvent } from '../live.ts';
import { useSession } from '../session.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { palette } from '../ui/chart.tsx';
import { formatAgo, formatNumber, formatPct } from '../ui/format.ts';
import { PageHeader, Stat } from '../ui/layout.tsx';
import { AlertsCard, BucketCard, FirmwareCard, RolloutsCard, TrendsCard } from './overview-cards.tsx';
import { loadOverviewFallback } from './overview-fallback.ts';
import type { DashboardOverview } from './overview-types.ts';

/** How often the fallback (no SSE) asks again. */
const FALLBACK_REFRESH_MS = 15_000;

function useOverview(): {
  data: DashboardOverview | undefined;
  error: ApiError | undefined;
  live: string;
  polling: boolean;
} {
  const session = useSession();
  // Whether the server lacks the overview route: a ref for the loader, state for the poll timer.
  const noRoute = useRef(false);
  const [fallback, setFallback] = useState(false);
  const [pushed, setPushed] = useState<DashboardOverview | undefined>(undefined);
  const loaded = useAsync(async () => {
    if (!noRoute.current) {
      try {
        return await get<DashboardOverview>('/api/v1/dashboard/overview');
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        noRoute.current = true;
        setFallback(true);
      }
    }
    return loadOverviewFallback((permission) => session.can(permission));
  }, []);
  const live = useLiveEvent<DashboardOverview>('overview', setPushed);
  useEffect(() => {
    if (!fallback) return undefined;
    const timer = setInterval(() => loaded.reload(), FALLBACK_REFRESH_MS);
    return () => clearInterval(timer);
    // reload is stable (useAsync's deps are empty).
  }, [fallback]);
  const newest = pushed !== undefined && pushed.atMs >= (loaded.data?.atMs ?? 0) ? pushed : loaded.data;
  return { data: newest, error: loaded.error, live, polling: fallback && live !== 'live' };
}

function LiveIndicator(props: { state: string; atMs: number | undefined; polling: boolean }) {
  const text = props.state === 'live' ? 'live' : 'reconnecting';
  return (
    <span
      class={`live live-${text}`}
      title={props.atMs === undefined ? undefined : `as of ${formatAgo(props.atMs)}`}
    >
      <span data-testid="live">{text}</span>
      {props.polling ? <span class="muted"> · refreshed every {FALLBACK_REFRESH_MS / 1000} s</span> : null}
    </span>
  );
}

export function OverviewPage(_props: PageProps) {
  const session = useSession();
  const { data, error, live, polling } = useOverview();
  const fleet = data?.fleet;
  return (
    <>
      <PageHeader title="Fleet overview" subtitle="Updates by itself while this page is open.">
        <LiveIndicator state={live} atMs={data?.atMs} polling={polling} />
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
