/**
 * One anomaly evaluation: reads the aggregates the detectors need (store/anomaly-types.ts), runs
 * the pure detectors and raises or clears their alerts. What must survive between evaluations —
 * outlier streaks, clusters still forming, what is raised — is kept in memory; after a restart the
 * raised alerts are re-read from the alert store, while streaks and forming clusters start over
 * (docs/anomaly-detection.md, "State and restarts").
 */
import type { Logger } from 'pino';
import type { Alert, AlertRaiseInput, AlertSubject } from '../alerts/alert.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import type { AnomalyStore, FactorCount } from '../store/anomaly-types.ts';
import type { AnomalyConfig, OfflineFactor } from './anomaly-config.ts';
import {
  ANOMALY_RULES,
  errorRateAlert,
  offlineClusterAlert,
  peerOutlierAlert,
  type AnomalyKind,
} from './anomaly-alerts.ts';
import { findErrorRateChanges } from './error-rate-change.ts';
import {
  activeCluster,
  clusterCleared,
  confirmClusters,
  findOfflineClusters,
  type ActiveCluster,
  type PendingCluster,
} from './offline-clusters.ts';
import {
  advanceStreaks,
  confirmedOutliers,
  findPeerOutliers,
  peerSourceMetrics,
  peerValues,
} from './peer-outliers.ts';

export interface AnomalyEvaluatorDeps {
  store: AnomalyStore;
  alerts: Pick<AlertService, 'raise' | 'clear' | 'list'>;
  logger: Logger;
  /** Called once per alert opened. */
  onDetected?: (kind: AnomalyKind) => void;
}

export interface EvaluationSummary {
  peerGroupsJudged: number;
  peerOutliers: number;
  droppedDevices: number;
  offlineClusters: number;
  errorRateChanges: number;
}

export interface AnomalyEvaluator {
  evaluate(nowMs: number): Promise<EvaluationSummary>;
}

/** Unresolved alerts re-read per rule after a restart, at most. */
const RESTORE_LIMIT = 10_000;

export function createAnomalyEvaluator(
  deps: AnomalyEvaluatorDeps,
  config: AnomalyConfig,
  /** Devices marked offline at or before this (the server's start) are not a cluster. */
  startedAtMs: number,
): AnomalyEvaluator {
  const { store, alerts } = deps;
  let restored = false;
  let streaks = new Map<string, number>();
  /** Devices with an open peer-outlier alert → evaluations in a row without any outlier. */
  const outlierDevices = new Map<string, number>();
  let pendingClusters = new Map<string, PendingCluster>();
  const clusters = new Map<string, ActiveCluster>();
  const rateGroups = new Set<string>();

  async function raise(kind: AnomalyKind, input: AlertRaiseInput): Promise<void> {
    const outcome = await alerts.raise(input);
    if (outcome.opened) deps.onDetected?.(kind);
  }
  const clear = (rule: string, subject: AlertSubject, note: string) => alerts.clear(rule, subject, note);

  async function unresolved(rule: string): Promise<Alert[]> {
    const found: Alert[] = [];
    let cursor: string | undefined;
    do {
      const page = await alerts.list(
        { state: 'unresolved', rule },
        { limit: 1000, ...(cursor ? { cursor } : {}) },
      );
      found.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined && found.length < RESTORE_LIMIT);
    return found;
  }

  async function restore(): Promise<void> {
    for (const alert of await unresolved(ANOMALY_RULES.peerOutlier)) outlierDevices.set(alert.subject.id, 0);
    for (const alert of await unresolved(ANOMALY_RULES.errorRate)) rateGroups.add(alert.subject.id);
    for (const alert of await unresolved(ANOMALY_RULES.offlineCluster)) {
      const d = alert.details;
      if (typeof d['factor'] !== 'string' || typeof d['value'] !== 'string') continue;
      clusters.set(alert.subject.id, {
        key: alert.subject.id,
        factor: d['factor'],
        value: d['value'],
        count: Number(d['count'] ?? 0),
        offlineBefore: Number(d['offlineBefore'] ?? 0),
      });
    }
    restored = true;
  }

  async function peerOutliers(nowMs: number, summary: EvaluationSummary): Promise<void> {
    const cfg = config.peerOutliers;
    const windowMs = cfg.windowS * 1000;
    const samples = await store.peerSamples(peerSourceMetrics(cfg.metrics), nowMs - windowMs, nowMs);
    const { outliers, groupsJudged } = findPeerOutliers(cfg, peerValues(samples, cfg.metrics, windowMs));
    summary.peerGroupsJudged = groupsJudged;
    summary.peerOutliers = outliers.length;
    streaks = advanceStreaks(streaks, outliers);
    const confirmed = confirmedOutliers(outliers, streaks, cfg.persistence);
    for (const [deviceId, list] of confirmed) {
      await raise('peer-outlier', peerOutlierAlert(deviceId, list));
      outlierDevices.set(deviceId, 0);
    }
    const stillOutlying = new Set(outliers.map((o) => o.deviceId));
    for (const [deviceId, calm] of outlierDevices) {
      if (confirmed.has(deviceId)) continue;
      if (stillOutlying.has(deviceId)) {
        outlierDevices.set(deviceId, 0);
      } else if (calm + 1 >= cfg.persistence) {
        await clear(ANOMALY_RULES.peerOutlier, { kind: 'device', id: deviceId }, 'back among its peers');
        outlierDevices.delete(deviceId);
      } else {
        outlierDevices.set(deviceId, calm + 1);
      }
    }
  }

  async function offlineClusters(nowMs: number, summary: EvaluationSummary): Promise<void> {
    const cfg = config.offlineClusters;
    const since = Math.max(nowMs - cfg.windowS * 1000, startedAtMs + 1);
    const dropped = await store.recentlyOffline(since, cfg.maxDevicesRead);
    const counts = new Map<OfflineFactor, FactorCount[]>();
    for (const factor of cfg.factors) counts.set(factor, await store.factorCounts(factor));
    const countOf = (factor: OfflineFactor, value: string) =>
      counts.get(factor)?.find((c) => c.value === value);
    const found = findOfflineClusters(cfg, dropped, counts);
    summary.droppedDevices = dropped.length;
    summary.offlineClusters = found.length;
    const { confirmed, pending } = confirmClusters(pendingClusters, found);
    pendingClusters = pending;
    const confirmedKeys = new Set(confirmed.map((c) => c.key));
    for (const cluster of found) {
      const known = clusters.get(cluster.key);
      // A raised cluster is raised again only when it grew (its detail then names every device).
      if (known !== undefined && cluster.deviceIds.length <= known.count) continue;
      if (known === undefined && !confirmedKeys.has(cluster.key)) continue;
      const active = known
        ? { ...known, count: cluster.deviceIds.length }
        : activeCluster(cluster, countOf(cluster.factor, cluster.value));
      await raise('offline-cluster', offlineClusterAlert(cluster, active, cfg.windowS, cfg.maxDeviceIds));
      clusters.set(cluster.key, active);
    }
    const foundKeys = new Set(found.map((c) => c.key));
    for (const [key, active] of clusters) {
      if (foundKeys.has(key)) continue;
      let count = countOf(active.factor, active.value);
      if (count === undefined && !counts.has(active.factor))
        count = (await store.factorCounts(active.factor)).find((c) => c.value === active.value);
      if (!clusterCleared(active, count, cfg.clearShare)) continue;
      await clear(
        ANOMALY_RULES.offlineCluster,
        { kind: 'group', id: key },
        'most of its devices are back online',
      );
      clusters.delete(key);
    }
  }

  async function errorRates(nowMs: number, summary: EvaluationSummary): Promise<void> {
    const cfg = config.errorRate;
    const windowFrom = nowMs - cfg.windowS * 1000;
    const window = await store.counterSums(cfg.metric, windowFrom, nowMs);
    const baseline = await store.counterSums(cfg.metric, windowFrom - cfg.baselineS * 1000, windowFrom);
    const changes = findErrorRateChanges(cfg, window, baseline, rateGroups);
    summary.errorRateChanges = changes.length;
    for (const change of changes) {
      await raise('error-rate', errorRateAlert(change, cfg.windowS, cfg.baselineS));
      rateGroups.add(change.key);
    }
    const current = new Set(changes.map((c) => c.key));
    for (const key of rateGroups) {
      if (current.has(key)) continue;
      await clear(ANOMALY_RULES.errorRate, { kind: 'group', id: key }, 'error rate back to its baseline');
      rateGroups.delete(key);
    }
  }

  return {
    async evaluate(nowMs) {
      if (!restored) await restore();
      const summary: EvaluationSummary = {
        peerGroupsJudged: 0,
        peerOutliers: 0,
        droppedDevices: 0,
        offlineClusters: 0,
        errorRateChanges: 0,
      };
      if (config.peerOutliers.enabled) await peerOutliers(nowMs, summary);
      if (config.offlineClusters.enabled) await offlineClusters(nowMs, summary);
      if (config.errorRate.enabled) await errorRates(nowMs, summary);
      deps.logger.debug(summary, 'anomaly evaluation');
      return summary;
    },
  };
}
