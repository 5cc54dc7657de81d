/**
 * One device's telemetry: pick a metric (those the device has reported) and a time range; the
 * chart shows the average per window with the min–max band. Ranges map to the resolution the API
 * keeps for them: raw windows (1–5 min) up to a day, hourly rollups for a week, daily for a month.
 */
import type { ChartConfiguration } from 'chart.js';
import { useMemo, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { latestResponseSchema, seriesResponseSchema } from '../../../api/routes/telemetry.ts';
import { get } from '../api.ts';
import { ErrorBox, Loading, useAsync } from './async.tsx';
import { ChartView, palette, timeTick } from './chart.tsx';

type Series = z.infer<typeof seriesResponseSchema>;
type Latest = z.infer<typeof latestResponseSchema>;

const HOUR_MS = 3_600_000;

export const telemetryRanges = [
  { id: '1h', label: 'last hour', spanMs: HOUR_MS, resolution: 'raw' },
  { id: '24h', label: 'last 24 h', spanMs: 24 * HOUR_MS, resolution: 'raw' },
  { id: '7d', label: 'last 7 days', spanMs: 7 * 24 * HOUR_MS, resolution: 'hour' },
  { id: '30d', label: 'last 30 days', spanMs: 30 * 24 * HOUR_MS, resolution: 'day' },
] as const;
type RangeId = (typeof telemetryRanges)[number]['id'];

/** Raw windows of a day are at most 1440 (1-minute app windows). */
const MAX_POINTS = 2000;
const PREFERRED_METRICS = ['battery_pct', 'signal_dbm', 'temperature_c'];

function seriesConfig(series: Series, spanMs: number): ChartConfiguration {
  const colour = palette[0] ?? '#0072B2';
  const at = (p: Series['points'][number]) => p.startMs;
  return {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'max',
          data: series.points.map((p) => ({ x: at(p), y: p.max })),
          borderWidth: 0,
          pointRadius: 0,
          backgroundColor: `${colour}26`,
        },
        {
          label: 'min',
          data: series.points.map((p) => ({ x: at(p), y: p.min })),
          borderWidth: 0,
          pointRadius: 0,
          backgroundColor: `${colour}26`,
          fill: '-1',
        },
        {
          label: series.metric,
          data: series.points.map((p) => ({ x: at(p), y: p.avg })),
          borderColor: colour,
          backgroundColor: colour,
          pointRadius: series.points.length > 60 ? 0 : 2,
        },
      ],
    },
    options: {
      parsing: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { labels: { filter: (item) => item.text !== 'min' && item.text !== 'max' } } },
      scales: {
        x: {
          type: 'linear',
          min: series.toMs - spanMs,
          max: series.toMs,
          ticks: { callback: (value) => timeTick(value, spanMs), maxTicksLimit: 8 },
        },
      },
    },
  };
}

function SeriesChart(props: { deviceId: string; metric: string; range: RangeId }) {
  const range = telemetryRanges.find((r) => r.id === props.range) ?? telemetryRanges[0];
  const series = useAsync(() => {
    const toMs = Date.now();
    return get<Series>('/api/v1/telemetry/series', {
      device: props.deviceId,
      metric: props.metric,
      resolution: range.resolution,
      from: toMs - range.spanMs,
      to: toMs,
      limit: MAX_POINTS,
    });
  }, [props.deviceId, props.metric, range]);
  const config = useMemo(
    () => (series.data === undefined ? undefined : seriesConfig(series.data, range.spanMs)),
    [series.data, range],
  );
  if (series.error !== undefined) return <ErrorBox error={series.error} title="Could not load the series:" />;
  if (config === undefined || series.data === undefined) return <Loading what="the series" />;
  if (series.data.points.length === 0)
    return (
      <p class="muted empty-state">
        No {props.metric} values in the {range.label}
        {range.resolution === 'raw' ? '' : ` (${range.resolution}ly rollups)`}. Try a longer range.
      </p>
    );
  return <ChartView config={config} label={`${props.metric} over the ${range.label}`} height={240} />;
}

export function TelemetryChart(props: { deviceId: string }) {
  const latest = useAsync(
    () => get<Latest>('/api/v1/telemetry/latest', { device: props.deviceId }),
    [props.deviceId],
  );
  const metrics = useMemo(() => {
    const names = [...new Set((latest.data?.items ?? []).map((i) => i.metric))].sort();
    const preferred = PREFERRED_METRICS.filter((m) => names.includes(m));
    return [...preferred, ...names.filter((m) => !preferred.includes(m))];
  }, [latest.data]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [range, setRange] = useState<RangeId>('1h');
  const metric = chosen !== undefined && metrics.includes(chosen) ? chosen : metrics[0];
  if (latest.error !== undefined)
    return <ErrorBox error={latest.error} title="Could not load the metrics:" />;
  if (latest.data === undefined) return <Loading what="metrics" />;
  if (metric === undefined)
    return <p class="muted empty-state">This device has not sent any telemetry yet.</p>;
  const current = latest.data.items.find((i) => i.metric === metric);
  return (
    <div class="telemetry">
      <div class="row telemetry-controls">
        <label>
          Metric
          <select
            data-testid="telemetry-metric"
            value={metric}
            onChange={(e) => setChosen(e.currentTarget.value)}
          >
            {metrics.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Range
          <select
            data-testid="telemetry-range"
            value={range}
            onChange={(e) => setRange(e.currentTarget.value as RangeId)}
          >
            {telemetryRanges.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {current !== undefined ? (
          <span class="muted">
            latest: <strong>{current.value}</strong>
          </span>
        ) : null}
      </div>
      <SeriesChart deviceId={props.deviceId} metric={metric} range={range} />
    </div>
  );
}
