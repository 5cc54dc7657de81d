/**
 * What to sample how often and how long a window is, per metric: defaults per kind (health,
 * application) with per-metric overrides. Milliseconds throughout; the daemon's config file
 * speaks seconds (telemetry-config.ts). Pure.
 */
import { healthMetricNames, healthMetrics, type HealthMetric } from '../../contracts/telemetry-messages.ts';
import { ValidationError } from '../../infra/errors.ts';

export interface Cadence {
  /** How often a sampled metric is read, and a counter's occurrences are summed into one sample, in ms. */
  sampleMs: number;
  /** Length of a window, in ms; a multiple of sampleMs. Windows are aligned to multiples of it since the epoch. */
  windowMs: number;
}

export interface TelemetrySettings {
  health: Cadence;
  app: Cadence;
  /** How often closed windows are packed into a batch and queued, in ms. Events go out at once. */
  sendMs: number;
  /** Per-metric overrides (e.g. `battery_pct: { sampleMs: 300_000 }`). */
  metrics: Record<string, Partial<Cadence>>;
}

export const TELEMETRY_DEFAULTS: TelemetrySettings = {
  health: { sampleMs: 60_000, windowMs: 5 * 60_000 },
  app: { sampleMs: 10_000, windowMs: 60_000 },
  sendMs: 30_000,
  metrics: {},
};

/**
 * Metrics whose samples are occurrences, not readings: each sample is the number of occurrences
 * in one sample period, so `avg × count` of a window is the window's total.
 */
export const HEALTH_COUNTERS: ReadonlySet<string> = new Set<HealthMetric>([
  'errors',
  'reboots',
  'crashes',
  'disconnects',
]);

/** Health metrics that are readings (everything but the counters). */
export const healthGauges: readonly HealthMetric[] = healthMetricNames.filter(
  (name) => !HEALTH_COUNTERS.has(name),
);

export interface MetricSettings extends Cadence {
  kind: 'health' | 'app';
}

export function isHealthMetric(name: string): name is HealthMetric {
  return Object.hasOwn(healthMetrics, name);
}

/** The cadence of one metric: its override, else its kind's default. */
export function metricSettings(settings: TelemetrySettings, name: string): MetricSettings {
  const kind = isHealthMetric(name) ? 'health' : 'app';
  const override = Object.hasOwn(settings.metrics, name) ? settings.metrics[name] : undefined;
  return {
    kind,
    sampleMs: override?.sampleMs ?? settings[kind].sampleMs,
    windowMs: override?.windowMs ?? settings[kind].windowMs,
  };
}

/** Throws ValidationError naming the metric when a window is not a whole number of sample periods. */
export function validateSettings(settings: TelemetrySettings): void {
  const names = ['health', 'app', ...Object.keys(settings.metrics)];
  for (const name of names) {
    const cadence = name === 'health' || name === 'app' ? settings[name] : metricSettings(settings, name);
    const where = name === 'health' || name === 'app' ? name : `metrics.${name}`;
    if (!(cadence.sampleMs > 0 && cadence.windowMs > 0)) {
      throw new ValidationError(`telemetry.${where}: sample and window must be positive`);
    }
    if (cadence.windowMs % cadence.sampleMs !== 0) {
      throw new ValidationError(
        `telemetry.${where}: window (${cadence.windowMs} ms) must be a multiple of the sample period (${cadence.sampleMs} ms)`,
      );
    }
  }
  if (!(settings.sendMs > 0)) throw new ValidationError('telemetry.sendS: must be positive');
}
