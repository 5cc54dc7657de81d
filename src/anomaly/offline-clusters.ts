/**
 * Offline clusters: many devices dropping within minutes that share a region, site, firmware or
 * model are one problem, reported once with the shared factor named. Pure;
 * docs/anomaly-detection.md.
 *
 * A group (one value of one factor) is a cluster when, among the devices that went offline in the
 * window, (1) it has at least `minDevices`, (2) they are at least `minGroupShare` of the group's
 * devices that were online, and (3) the group is over-represented: under "every online device is
 * equally likely to drop", its count is Binomial(dropped, its share of the online fleet) and the
 * one-sided p-value must be below `alpha`. A fleet-wide outage (every group at its fleet share) is
 * not a cluster: the fleet's own online share is the rules' job. Clusters are picked greedily, the
 * largest first, each taking its devices out of the rest: a region going dark is named once by its
 * region, not again by each of its sites.
 */
import { binomialUpperTail } from '../stats/binomial.ts';
import type { FactorCount, OfflineDevice } from '../store/anomaly-types.ts';
import type { OfflineClusterConfig, OfflineFactor } from './anomaly-config.ts';

export interface OfflineCluster {
  /** `region=eu-west`, `tag:site=paris`, `firmware=2.4.1`: the alert's group subject. */
  key: string;
  factor: OfflineFactor;
  value: string;
  deviceIds: string[];
  /** Devices of the group that were online at the start of the window (online now + dropped). */
  groupOnline: number;
  /** deviceIds.length / groupOnline. */
  share: number;
  /** The group's share of the online fleet: what its share of the dropped devices would be by chance. */
  fleetShare: number;
  /** Its share of the dropped devices still unexplained when it was picked. */
  coverage: number;
  pValue: number;
}

/** The value of `factor` on a device, or undefined. */
export function factorValue(device: OfflineDevice, factor: OfflineFactor): string | undefined {
  if (factor === 'region') return device.region ?? undefined;
  if (factor === 'firmware') return device.firmware ?? undefined;
  if (factor === 'model') return device.model ?? undefined;
  return device.tags[factor.slice(4)];
}

export const clusterKey = (factor: OfflineFactor, value: string): string => `${factor}=${value}`;

/**
 * The clusters among `dropped` (devices that went offline within the window), given each factor's
 * device counts per value now.
 */
export function findOfflineClusters(
  config: Pick<OfflineClusterConfig, 'minDevices' | 'minGroupShare' | 'alpha' | 'factors'>,
  dropped: readonly OfflineDevice[],
  counts: ReadonlyMap<OfflineFactor, readonly FactorCount[]>,
): OfflineCluster[] {
  // Online at the window's start = online now + dropped since (per group and per factor).
  const onlineAtStart = new Map<OfflineFactor, Map<string, number>>();
  const fleetOnline = new Map<OfflineFactor, number>();
  for (const factor of config.factors) {
    const perValue = new Map<string, number>();
    for (const c of counts.get(factor) ?? []) perValue.set(c.value, c.online);
    for (const d of dropped) {
      const value = factorValue(d, factor);
      if (value !== undefined) perValue.set(value, (perValue.get(value) ?? 0) + 1);
    }
    onlineAtStart.set(factor, perValue);
    fleetOnline.set(
      factor,
      [...perValue.values()].reduce((a, b) => a + b, 0),
    );
  }

  const clusters: OfflineCluster[] = [];
  let remaining = [...dropped];
  for (;;) {
    const best = bestCandidate(config, remaining, onlineAtStart, fleetOnline);
    if (best === undefined) break;
    clusters.push(best);
    const taken = new Set(best.deviceIds);
    remaining = remaining.filter((d) => !taken.has(d.deviceId));
  }
  return clusters;
}

function bestCandidate(
  config: Pick<OfflineClusterConfig, 'minDevices' | 'minGroupShare' | 'alpha' | 'factors'>,
  remaining: readonly OfflineDevice[],
  onlineAtStart: ReadonlyMap<OfflineFactor, ReadonlyMap<string, number>>,
  fleetOnline: ReadonlyMap<OfflineFactor, number>,
): OfflineCluster | undefined {
  if (remaining.length < config.minDevices) return undefined;
  let best: OfflineCluster | undefined;
  for (const factor of config.factors) {
    const members = new Map<string, string[]>();
    let withValue = 0;
    for (const d of remaining) {
      const value = factorValue(d, factor);
      if (value === undefined) continue;
      withValue += 1;
      const list = members.get(value);
      if (list) list.push(d.deviceId);
      else members.set(value, [d.deviceId]);
    }
    const fleet = fleetOnline.get(factor) ?? 0;
    for (const [value, deviceIds] of members) {
      const k = deviceIds.length;
      if (k < config.minDevices || fleet <= 0) continue;
      const groupOnline = onlineAtStart.get(factor)?.get(value) ?? k;
      const share = k / groupOnline;
      if (share < config.minGroupShare) continue;
      const fleetShare = groupOnline / fleet;
      const pValue = binomialUpperTail(k, withValue, fleetShare);
      if (pValue >= config.alpha) continue;
      const candidate: OfflineCluster = {
        key: clusterKey(factor, value),
        factor,
        value,
        deviceIds: [...deviceIds].sort(),
        groupOnline,
        share,
        fleetShare,
        coverage: k / remaining.length,
        pValue,
      };
      // The widest explanation first; among equals the larger share, then the configured factor order.
      if (
        best === undefined ||
        k > best.deviceIds.length ||
        (k === best.deviceIds.length && share > best.share)
      )
        best = candidate;
    }
  }
  return best;
}

/** A cluster seen on the previous evaluation, waiting to stop growing before it is raised. */
export interface PendingCluster {
  count: number;
}

/**
 * Clusters still forming are not raised yet: a region whose devices drop over a minute would
 * otherwise be named by the first site to fall. A cluster is confirmed when the previous
 * evaluation found it too and it grew by at most `growthTolerance` since. Returns the confirmed
 * clusters and the pending set for the next evaluation.
 */
export function confirmClusters(
  pending: ReadonlyMap<string, PendingCluster>,
  clusters: readonly OfflineCluster[],
  growthTolerance = 0.1,
): { confirmed: OfflineCluster[]; pending: Map<string, PendingCluster> } {
  const confirmed: OfflineCluster[] = [];
  const next = new Map<string, PendingCluster>();
  for (const cluster of clusters) {
    const count = cluster.deviceIds.length;
    const before = pending.get(cluster.key);
    if (before !== undefined && count <= before.count * (1 + growthTolerance)) confirmed.push(cluster);
    next.set(cluster.key, { count });
  }
  return { confirmed, pending: next };
}

/** What is remembered of a raised cluster to know when it has cleared. */
export interface ActiveCluster {
  key: string;
  factor: OfflineFactor;
  value: string;
  /** Devices in the cluster (the largest count raised). */
  count: number;
  /** Devices of the group that were already offline before the cluster. */
  offlineBefore: number;
}

/** The remembered state of a newly raised cluster, from the group's counts now. */
export function activeCluster(cluster: OfflineCluster, count: FactorCount | undefined): ActiveCluster {
  const offlineNow = count === undefined ? cluster.deviceIds.length : count.total - count.online;
  return {
    key: cluster.key,
    factor: cluster.factor,
    value: cluster.value,
    count: cluster.deviceIds.length,
    offlineBefore: Math.max(0, offlineNow - cluster.deviceIds.length),
  };
}

/** Cleared when fewer than `clearShare` of the cluster's devices are still offline (most came back). */
export function clusterCleared(
  active: ActiveCluster,
  count: FactorCount | undefined,
  clearShare: number,
): boolean {
  const offlineNow = count === undefined ? 0 : count.total - count.online;
  return offlineNow - active.offlineBefore < clearShare * active.count;
}
