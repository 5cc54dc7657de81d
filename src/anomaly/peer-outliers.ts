/**
 * Peer outliers: devices whose metric is far from that of their peers (same hardware model and
 * firmware), measured by a robust z-score — (x − median) / (1.4826 × MAD), which is
 * 0.6745 × (x − median) / MAD — so a few broken devices cannot hide themselves by inflating the
 * spread the way they would a mean and standard deviation. The MAD is taken on the device's side
 * of the median (double MAD) when that is wider, so skewed metrics are judged fairly. Pure; docs/anomaly-detection.md.
 */
import { poissonUpperTail } from '../stats/binomial.ts';
import { normalUpperTail } from '../stats/rank-tests.ts';
import { median, robustScale, sidedRobustScale } from '../stats/robust.ts';
import type { PeerSample } from '../store/anomaly-types.ts';
import type { PeerMetric, PeerOutlierConfig } from './anomaly-config.ts';

const HOUR_MS = 3_600_000;

interface MetricRule {
  /** The telemetry metric it is computed from. */
  source: string;
  /** Which side is abnormal: a battery that drains slowly or a strong signal is not a fault. */
  direction: 'high' | 'low' | 'both';
  /** The smallest spread assumed, in the metric's unit: identical peers do not make every small difference infinite. */
  minScale: number;
  unit: string;
}

export const PEER_METRIC_RULES: Record<PeerMetric, MetricRule> = {
  battery_drain: { source: 'battery_pct', direction: 'high', minScale: 0.1, unit: '%/h' },
  temperature_c: { source: 'temperature_c', direction: 'both', minScale: 0.5, unit: '°C' },
  memory_used_pct: { source: 'memory_used_pct', direction: 'high', minScale: 1, unit: '%' },
  signal_dbm: { source: 'signal_dbm', direction: 'low', minScale: 1, unit: 'dBm' },
  errors: { source: 'errors', direction: 'high', minScale: 0, unit: '/h' },
};

/** A battery's drain needs readings this far apart, as a share of the window. */
const MIN_DRAIN_SPAN_SHARE = 0.5;

/** One device's value of one peer metric. */
export interface PeerValue {
  deviceId: string;
  model: string;
  firmware: string;
  metric: PeerMetric;
  value: number;
  /** Counters: occurrences and the hours they were counted over. */
  occurrences?: number;
  hours?: number;
}

export interface PeerOutlier {
  deviceId: string;
  model: string;
  firmware: string;
  metric: PeerMetric;
  value: number;
  median: number;
  /** Robust spread in standard-deviation units (after the metric's floor). */
  scale: number;
  z: number;
  peers: number;
}

/** The source telemetry metrics the configured peer metrics need. */
export function peerSourceMetrics(metrics: readonly PeerMetric[]): string[] {
  return [...new Set(metrics.map((m) => PEER_METRIC_RULES[m].source))];
}

/**
 * Peer-metric values from per-device summaries over a window of `windowMs`: averages for gauges,
 * occurrences per hour for counters, and the battery drain (% per hour, positive = discharging)
 * between the first and last window's averages.
 */
export function peerValues(
  samples: readonly PeerSample[],
  metrics: readonly PeerMetric[],
  windowMs: number,
): PeerValue[] {
  const values: PeerValue[] = [];
  for (const sample of samples) {
    for (const metric of metrics) {
      if (PEER_METRIC_RULES[metric].source !== sample.metric || sample.count <= 0) continue;
      const base = { deviceId: sample.deviceId, model: sample.model, firmware: sample.firmware, metric };
      if (metric === 'battery_drain') {
        const spanMs = sample.lastAtMs - sample.firstAtMs;
        if (spanMs < MIN_DRAIN_SPAN_SHARE * windowMs || spanMs <= 0) continue;
        values.push({ ...base, value: (sample.firstAvg - sample.lastAvg) / (spanMs / HOUR_MS) });
      } else if (metric === 'errors') {
        if (sample.coveredMs <= 0) continue;
        const hours = sample.coveredMs / HOUR_MS;
        values.push({ ...base, value: sample.sum / hours, occurrences: sample.sum, hours });
      } else {
        values.push({ ...base, value: sample.sum / sample.count });
      }
    }
  }
  return values;
}

/** The outliers of every peer group (model, firmware) and metric with at least `minPeers` devices. */
export function findPeerOutliers(
  config: Pick<PeerOutlierConfig, 'minPeers' | 'threshold'>,
  values: readonly PeerValue[],
): { outliers: PeerOutlier[]; groupsJudged: number } {
  const groups = new Map<string, PeerValue[]>();
  for (const v of values) {
    const key = `${v.model}\u0000${v.firmware}\u0000${v.metric}`;
    const list = groups.get(key);
    if (list) list.push(v);
    else groups.set(key, [v]);
  }
  const outliers: PeerOutlier[] = [];
  let groupsJudged = 0;
  for (const members of groups.values()) {
    if (members.length < config.minPeers) continue;
    groupsJudged += 1;
    outliers.push(...groupOutliers(config.threshold, members));
  }
  return { outliers, groupsJudged };
}

function groupOutliers(threshold: number, members: readonly PeerValue[]): PeerOutlier[] {
  const rule = PEER_METRIC_RULES[members[0]!.metric];
  const xs = members.map((m) => m.value);
  const center = median(xs);
  // Each side has its own spread (double MAD), never below the whole group's: a skewed metric's
  // long tail is not outlying, and a symmetric one is not judged on half the data alone.
  const whole = Math.max(robustScale(xs, center), rule.minScale);
  const spreadOf = (side: 'high' | 'low') => Math.max(sidedRobustScale(xs, center, side), whole);
  const spreads = { high: spreadOf('high'), low: spreadOf('low') };
  // A counter's rate is noisy by Poisson chance alone; a device is judged against its own
  // exposure, and must also be improbable under the peers' median rate.
  const tailLimit = normalUpperTail(threshold);
  const found: PeerOutlier[] = [];
  for (const m of members) {
    let scale = m.value >= center ? spreads.high : spreads.low;
    if (m.hours !== undefined && m.hours > 0)
      scale = Math.max(scale, Math.sqrt(Math.max(center, 1) / m.hours));
    if (scale <= 0) continue;
    const z = (m.value - center) / scale;
    const outlying =
      rule.direction === 'high'
        ? z > threshold
        : rule.direction === 'low'
          ? z < -threshold
          : Math.abs(z) > threshold;
    if (!outlying) continue;
    if (m.occurrences !== undefined && m.hours !== undefined) {
      if (poissonUpperTail(Math.round(m.occurrences), center * m.hours) >= tailLimit) continue;
    }
    found.push({
      deviceId: m.deviceId,
      model: m.model,
      firmware: m.firmware,
      metric: m.metric,
      value: m.value,
      median: center,
      scale,
      z,
      peers: members.length,
    });
  }
  return found;
}

/**
 * Consecutive evaluations each (device, metric) has been an outlier, after this evaluation: an
 * outlier now extends its streak, anything else is forgotten.
 */
export function advanceStreaks(
  previous: ReadonlyMap<string, number>,
  outliers: readonly PeerOutlier[],
): Map<string, number> {
  const next = new Map<string, number>();
  for (const o of outliers) {
    const key = `${o.deviceId}|${o.metric}`;
    next.set(key, (previous.get(key) ?? 0) + 1);
  }
  return next;
}

/** The outliers whose streak reached `persistence`, grouped by device. */
export function confirmedOutliers(
  outliers: readonly PeerOutlier[],
  streaks: ReadonlyMap<string, number>,
  persistence: number,
): Map<string, PeerOutlier[]> {
  const byDevice = new Map<string, PeerOutlier[]>();
  for (const o of outliers) {
    if ((streaks.get(`${o.deviceId}|${o.metric}`) ?? 0) < persistence) continue;
    const list = byDevice.get(o.deviceId);
    if (list) list.push(o);
    else byDevice.set(o.deviceId, [o]);
  }
  return byDevice;
}
