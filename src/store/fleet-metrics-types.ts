/**
 * Fleet metrics read by SQL aggregates (never by loading devices): counts, firmware versions,
 * current-release share, histograms of latest telemetry, error totals from rollups, and the devices
 * a device alert rule matches. Implemented in sqlite/ and postgres/ on the shared query builder
 * (fleet-metrics-query.ts); contract: test/fleet-metrics/fleet-metrics-store.contract.ts.
 */
import type { FleetQuery } from '../fleet-query/index.ts';
import type { RuleOperator } from '../alerts/rules/alert-rule.ts';

/** Which devices are counted: all, or those a fleet query matches at `nowMs`. */
export interface MetricsScope {
  where?: FleetQuery;
  nowMs: number;
}

/** Histogram bucket upper bounds (exclusive), ascending; a last bucket takes the rest. */
export type BucketBounds = readonly number[];

/** What a device rule matches; each compiles to one query returning the matching devices. */
export type DeviceCondition =
  | { kind: 'telemetry'; metric: string; operator: RuleOperator; threshold: number }
  /** `offline_for op thresholdMs`; the value returned is the offline duration in ms. */
  | { kind: 'offline'; operator: RuleOperator; thresholdMs: number }
  /** Errors per 100 samples over hourly rollups starting at or after `fromMs`. */
  | { kind: 'error_rate'; operator: RuleOperator; thresholdPct: number; fromMs: number }
  | { kind: 'query'; query: FleetQuery };

export interface DeviceMatch {
  deviceId: string;
  /** The metric value (null for query conditions). */
  value: number | null;
}

export interface FleetMetricsStore {
  /** Devices in scope and how many are online. */
  countDevices(scope: MetricsScope): Promise<{ total: number; online: number }>;
  /** Devices per reported firmware version (null: none reported), most common first, at most `limit`. */
  firmwareVersions(
    scope: MetricsScope,
    limit: number,
  ): Promise<Array<{ version: string | null; devices: number }>>;
  /**
   * Devices whose model has a release, and of those how many run their model's current release
   * (its newest by semver precedence; build metadata ignored).
   */
  currentRelease(scope: MetricsScope): Promise<{ withRelease: number; onCurrent: number }>;
  /** Devices per bucket of their latest `metric` value; index i counts values below bounds[i], the last the rest. */
  histogram(scope: MetricsScope, metric: string, bounds: BucketBounds): Promise<number[]>;
  /** Σ errors and Σ samples of the `errors` counter over hourly rollups starting at or after `fromMs`. */
  errorTotals(scope: MetricsScope, fromMs: number): Promise<{ errors: number; samples: number }>;
  /** The devices in scope the condition matches, by id, with their value. */
  matchDevices(condition: DeviceCondition, scope: MetricsScope): Promise<DeviceMatch[]>;
}
