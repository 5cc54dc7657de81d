/** Anomaly detection on /metrics: how long an evaluation takes and how many anomalies opened an alert. */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { AnomalyKind } from './anomaly-alerts.ts';

export interface AnomalyMetrics {
  observeEvaluation: (seconds: number) => void;
  detected: (kind: AnomalyKind) => void;
}

export function createAnomalyMetrics(registry: Registry): AnomalyMetrics {
  const duration = new Histogram({
    name: 'flotilla_anomaly_evaluation_duration_seconds',
    help: 'Time one anomaly evaluation (every detector, its reads and alerts) took',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const detected = new Counter({
    name: 'flotilla_anomalies_detected_total',
    help: 'Anomalies that opened an alert, by kind (peer-outlier, offline-cluster, error-rate)',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of ['peer-outlier', 'offline-cluster', 'error-rate'] as const) detected.inc({ kind }, 0);
  return {
    observeEvaluation: (seconds) => duration.observe(seconds),
    detected: (kind) => detected.inc({ kind }),
  };
}
