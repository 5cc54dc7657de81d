/** The alerts anomaly detection raises: rule names, severities, titles and details. Pure. */
import type { AlertRaiseInput } from '../alerts/alert.ts';
import type { ActiveCluster, OfflineCluster } from './offline-clusters.ts';
import type { GroupRateChange } from './error-rate-change.ts';
import { PEER_METRIC_RULES, type PeerOutlier } from './peer-outliers.ts';

export const ANOMALY_RULES = {
  peerOutlier: 'anomaly.peer-outlier',
  offlineCluster: 'anomaly.offline-cluster',
  errorRate: 'anomaly.error-rate',
} as const;

export type AnomalyKind = 'peer-outlier' | 'offline-cluster' | 'error-rate';

const fmt = (value: number): string => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3));
const pct = (share: number): string => `${Math.round(share * 100)} %`;

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export function peerOutlierAlert(deviceId: string, outliers: readonly PeerOutlier[]): AlertRaiseInput {
  const worst = outliers.reduce((a, b) => (Math.abs(b.z) > Math.abs(a.z) ? b : a));
  const describe = (o: PeerOutlier) =>
    `${o.metric} ${fmt(o.value)} ${PEER_METRIC_RULES[o.metric].unit} vs a median of ${fmt(o.median)} ` +
    `on ${o.peers} ${o.model} ${o.firmware} peers (robust z ${o.z.toFixed(1)})`;
  return {
    rule: ANOMALY_RULES.peerOutlier,
    severity: 'warning',
    subject: { kind: 'device', id: deviceId },
    title: `${deviceId}: ${worst.metric} far from its peers`.slice(0, 200),
    detail: outliers.map(describe).join('; ').slice(0, 4000),
    details: {
      model: worst.model,
      firmware: worst.firmware,
      metrics: outliers.map((o) => ({
        metric: o.metric,
        value: o.value,
        median: o.median,
        scale: o.scale,
        z: o.z,
        peers: o.peers,
      })),
    },
  };
}

export function offlineClusterAlert(
  cluster: OfflineCluster,
  active: ActiveCluster,
  windowS: number,
  maxDeviceIds: number,
): AlertRaiseInput {
  const count = cluster.deviceIds.length;
  return {
    rule: ANOMALY_RULES.offlineCluster,
    severity: 'critical',
    subject: { kind: 'group', id: cluster.key },
    title: `${count} devices of ${cluster.key} went offline within ${duration(windowS)}`,
    detail:
      `${count} of the ${cluster.groupOnline} online devices of ${cluster.key} (${pct(cluster.share)}) ` +
      `dropped within ${duration(windowS)}; the group is ${pct(cluster.fleetShare)} of the online fleet but ` +
      `${pct(cluster.coverage)} of the devices that dropped (p = ${cluster.pValue.toPrecision(2)})`,
    details: {
      factor: cluster.factor,
      value: cluster.value,
      count,
      groupOnline: cluster.groupOnline,
      share: cluster.share,
      fleetShare: cluster.fleetShare,
      coverage: cluster.coverage,
      pValue: cluster.pValue,
      offlineBefore: active.offlineBefore,
      deviceIds: cluster.deviceIds.slice(0, maxDeviceIds),
      deviceIdsTruncated: count > maxDeviceIds,
    },
  };
}

export function errorRateAlert(change: GroupRateChange, windowS: number, baselineS: number): AlertRaiseInput {
  const rate = (errors: number, samples: number) => fmt(errors / samples);
  return {
    rule: ANOMALY_RULES.errorRate,
    severity: 'warning',
    subject: { kind: 'group', id: change.key },
    title: `error rate of ${change.key} ×${change.ratio.toFixed(1)} over the last ${duration(windowS)}`,
    detail:
      `${rate(change.windowErrors, change.windowSamples)} errors per sample over the last ${duration(windowS)} ` +
      `(${Math.round(change.windowErrors)} in ${change.windowSamples} samples) vs ` +
      `${rate(change.baselineErrors, change.baselineSamples)} over the ${duration(baselineS)} before ` +
      `(×${change.ratio.toFixed(2)}, p = ${change.pValue.toPrecision(2)})`,
    details: { ...change },
  };
}
