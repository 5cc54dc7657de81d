/** The overview's cards: firmware, battery and signal distributions, alerts, rollouts, trends. */
import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'preact/hooks';
import type { FleetMetricsSummary } from '../../../fleet-metrics/fleet-summary.ts';
import { navigate } from '../router.tsx';
import { ChartView, palette, timeTick } from '../ui/chart.tsx';
import { formatAgo, formatNumber, formatPct } from '../ui/format.ts';
import { Badge, Card } from '../ui/layout.tsx';
import type {
  ActiveRollout as OverviewRollout,
  DashboardOverview,
  TrendPoint,
} from '../../../dashboard/overview-schema.ts';

const TOP_VERSIONS = 8;
const UNKNOWN_COLOR = '#c0c6cf';

type Versions = FleetMetricsSummary['firmware'];

/** The most common versions, then one "other" bar for the rest. */
function firmwareBars(firmware: Versions): Array<{ label: string; devices: number; where?: string }> {
  const top = firmware.versions.slice(0, TOP_VERSIONS).map((v) => ({
    label: v.version ?? 'none reported',
    devices: v.devices,
    where: v.version === null ? 'firmware not exists' : `firmware = ${JSON.stringify(v.version)}`,
  }));
  const rest =
    firmware.versions.slice(TOP_VERSIONS).reduce((sum, v) => sum + v.devices, 0) + firmware.otherDevices;
  return rest > 0 ? [...top, { label: 'other', devices: rest }] : top;
}

export function FirmwareCard(props: { firmware: Versions }) {
  const bars = useMemo(() => firmwareBars(props.firmware), [props.firmware]);
  const config = useMemo<ChartConfiguration>(
    () => ({
      type: 'bar',
      data: {
        labels: bars.map((b) => b.label),
        datasets: [{ label: 'devices', data: bars.map((b) => b.devices), backgroundColor: palette[0] }],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        onHover: (event, elements) => {
          const target = event.native?.target;
          if (target instanceof HTMLElement)
            target.style.cursor = elements.length > 0 ? 'pointer' : 'default';
        },
        onClick: (_event, elements) => {
          const where = bars[elements[0]?.index ?? -1]?.where;
          if (where !== undefined) navigate('/devices', { where });
        },
      },
    }),
    [bars],
  );
  return (
    <Card title="Firmware versions" testid="card-firmware">
      {bars.length === 0 ? (
        <p class="muted">No device has reported a firmware version yet.</p>
      ) : (
        <ChartView
          config={config}
          label="Devices per firmware version"
          height={Math.max(140, bars.length * 28)}
        />
      )}
      <p class="muted card-hint">
        {formatPct(props.firmware.currentPct)} of devices with a release run their model's newest one. Click a
        bar to list its devices.
      </p>
    </Card>
  );
}

/** "lt-110" → "< −110", "ge-70" → "≥ −70", "-110..-100" → "−110…−100", "unknown" → "unknown". */
function bucketLabel(bucket: string, unit: string): string {
  if (bucket === 'unknown') return 'no data';
  if (bucket.startsWith('lt')) return `< ${bucket.slice(2)} ${unit}`;
  if (bucket.startsWith('ge')) return `≥ ${bucket.slice(2)} ${unit}`;
  return `${bucket.replace('..', ' to ').replace(/^(\d+)-(\d+)$/, '$1–$2')} ${unit}`;
}

export function BucketCard(props: {
  title: string;
  testid: string;
  unit: string;
  buckets: FleetMetricsSummary['battery'];
  color: string;
}) {
  const { buckets } = props;
  const config = useMemo<ChartConfiguration>(
    () => ({
      type: 'bar',
      data: {
        labels: buckets.map((b) => bucketLabel(b.bucket, props.unit)),
        datasets: [
          {
            label: 'devices',
            data: buckets.map((b) => b.devices),
            backgroundColor: buckets.map((b) => (b.bucket === 'unknown' ? UNKNOWN_COLOR : props.color)),
          },
        ],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    }),
    [buckets, props.unit, props.color],
  );
  const unknown = buckets.find((b) => b.bucket === 'unknown')?.devices ?? 0;
  const total = buckets.reduce((sum, b) => sum + b.devices, 0);
  return (
    <Card title={props.title} testid={props.testid}>
      <ChartView config={config} label={`${props.title}: devices per bucket`} height={200} />
      <p class="muted card-hint">
        {total > 0 && unknown === total
          ? 'No device has reported this metric yet ("no data").'
          : `Latest value per device; ${formatNumber(unknown)} without data.`}
      </p>
    </Card>
  );
}

export function AlertsCard(props: { alerts: DashboardOverview['alerts'] }) {
  const { alerts } = props;
  const rows: Array<[string, number]> = [
    ['critical', alerts.bySeverity.critical],
    ['warning', alerts.bySeverity.warning],
    ['info', alerts.bySeverity.info],
  ];
  return (
    <Card title="Open alerts" testid="card-alerts">
      {alerts.open === 0 ? <p class="muted">No unresolved alerts: the fleet is quiet.</p> : null}
      <ul class="severity-list">
        {rows.map(([severity, count]) => (
          <li key={severity} data-severity={severity}>
            <Badge value={severity} kind={count > 0 ? severity : 'none'} />
            <strong>{formatNumber(count)}</strong>
          </li>
        ))}
      </ul>
      <p class="muted card-hint">
        Counts include {formatNumber(alerts.acknowledged)} acknowledged (someone is on it).{' '}
        <a href="#/alerts">Open the alerts →</a>
      </p>
    </Card>
  );
}

const stateColors: Record<string, string> = {
  success: '#067647',
  succeeded: '#067647',
  installed: '#067647',
  failed: '#b42318',
  'rolled-back': '#b42318',
  stuck: '#b54708',
  'not-started': '#d0d5dd',
  skipped: '#98a2b3',
};

/** One horizontal bar split by device state. */
function StateBar(props: { devices: Record<string, number> }) {
  const entries = Object.entries(props.devices).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return <div class="state-bar empty" title="No device started yet" />;
  return (
    <div class="state-bar" title={entries.map(([s, n]) => `${s}: ${n}`).join(', ')}>
      {entries.map(([state, count], i) => (
        <span
          key={state}
          style={{
            width: `${(100 * count) / total}%`,
            background: stateColors[state] ?? palette[(i + 4) % palette.length],
          }}
        />
      ))}
    </div>
  );
}

function stageText(r: OverviewRollout): string {
  const percent = ` (${Math.round(r.stagePercent * 10) / 10} %)`;
  return `stage ${r.stageIndex + 1} of ${r.stageCount}${percent}`;
}

export function RolloutsCard(props: { rollouts: readonly OverviewRollout[] }) {
  return (
    <Card title="Active rollouts" testid="card-rollouts">
      {props.rollouts.length === 0 ? (
        <p class="muted">
          No rollout running. Start one from <a href="#/firmware">Firmware</a> to update devices in stages.
        </p>
      ) : (
        <ul class="rollout-list">
          {props.rollouts.map((r) => (
            <li key={r.id} data-rollout-id={r.id}>
              <div class="rollout-line">
                <a href={`#/rollouts/${encodeURIComponent(r.id)}`}>
                  {r.model} {r.version}
                </a>
                <Badge value={r.status} />
                <span class="muted">{stageText(r)}</span>
              </div>
              <StateBar devices={r.devices} />
              {r.pauseReason !== null ? <div class="muted small">Paused: {r.pauseReason}</div> : null}
              <div class="muted small">started {formatAgo(r.createdAt)}</div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** Seconds matter on a trend only minutes long (a server just started). */
function trendTick(value: number | string, spanMs: number): string {
  return spanMs < 15 * 60_000 ? new Date(Number(value)).toISOString().slice(11, 19) : timeTick(value, spanMs);
}

export function TrendsCard(props: { points: readonly TrendPoint[]; scoped?: boolean }) {
  // A snapshot of an empty fleet (the first one at start-up) has no shares to draw.
  const points = useMemo(() => props.points.filter((p) => p.onlinePct !== null), [props.points]);
  const radius = points.length > 40 ? 0 : 3;
  const config = useMemo<ChartConfiguration>(() => {
    const first = points[0]?.atMs ?? 0;
    const span = (points[points.length - 1]?.atMs ?? first) - first;
    return {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'online %',
            data: points.map((p) => ({ x: p.atMs, y: p.onlinePct })),
            borderColor: palette[2],
            backgroundColor: palette[2],
            pointRadius: radius,
          },
          {
            label: '% on current release',
            data: points.map((p) => ({ x: p.atMs, y: p.currentPct })),
            borderColor: palette[0],
            backgroundColor: palette[0],
            pointRadius: radius,
          },
        ],
      },
      options: {
        parsing: false,
        scales: {
          x: { type: 'linear', ticks: { callback: (value) => trendTick(value, span), maxTicksLimit: 8 } },
          y: { min: 0, max: 100, ticks: { callback: (value) => `${value} %` } },
        },
        interaction: { mode: 'index', intersect: false },
      },
    };
  }, [points, radius]);
  return (
    <Card title="Trends" testid="card-trends" class="wide">
      {props.scoped === true ? (
        <p class="muted empty-state">
          Trends are kept for the whole fleet only, so they are not shown to a role limited to some devices.
        </p>
      ) : points.length < 2 ? (
        <p class="muted empty-state">
          Trends appear after the first snapshots (one a minute): online % and the share on the current
          release over time.
        </p>
      ) : (
        <ChartView config={config} label="Online % and % on current release over time" height={240} />
      )}
    </Card>
  );
}
