/** Anomaly detection (docs/anomaly-detection.md): built and started by the server's composition root. */
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.ts';
import type { Clock } from '../infra/clock.ts';
import type { Timers } from '../infra/timers.ts';
import type { AnomalyStore } from '../store/anomaly-types.ts';
import type { AnomalyConfig } from './anomaly-config.ts';
import { startAnomalyDriver, type AnomalyDriver } from './anomaly-driver.ts';
import { createAnomalyEvaluator } from './anomaly-evaluator.ts';
import { createAnomalyMetrics } from './anomaly-metrics.ts';

export interface AnomalyDetectionDeps {
  store: AnomalyStore;
  alerts: Pick<AlertService, 'raise' | 'clear' | 'list'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metricsRegistry: Registry;
}

/** Starts the evaluations on their interval; undefined when `anomaly.enabled` is false. */
export function startAnomalyDetection(
  deps: AnomalyDetectionDeps,
  config: AnomalyConfig,
): AnomalyDriver | undefined {
  if (!config.enabled) return undefined;
  const metrics = createAnomalyMetrics(deps.metricsRegistry);
  const evaluator = createAnomalyEvaluator(
    { store: deps.store, alerts: deps.alerts, logger: deps.logger, onDetected: metrics.detected },
    config,
    deps.clock.now(),
  );
  return startAnomalyDriver(
    {
      evaluator,
      clock: deps.clock,
      timers: deps.timers,
      logger: deps.logger,
      onEvaluated: metrics.observeEvaluation,
    },
    { intervalMs: config.intervalS * 1000 },
  );
}
