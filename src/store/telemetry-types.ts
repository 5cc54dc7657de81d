/**
 * The telemetry store: received batches (dedup by device and seq), raw windows, events, hourly and
 * daily rollups, and the latest value per device and metric. Implemented in sqlite/ and postgres/
 * and checked by one contract suite (test/store/telemetry-store.contract.ts). Times are ms since
 * the epoch. See docs/telemetry.md, "Store".
 */
import type { EventSeverity, TelemetryEvent } from '../contracts/telemetry-messages.ts';

export type MetricKind = 'health' | 'app';

/** One metric of one window: a row of the raw tier. */
export interface WindowRow {
  kind: MetricKind;
  metric: string;
  startMs: number;
  endMs: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  last: number;
}

/** A batch that passed validation and the record rules, ready to be written. */
export interface BatchToStore {
  deviceId: string;
  seq: number;
  receivedAtMs: number;
  windows: readonly WindowRow[];
  events: readonly TelemetryEvent[];
  /** What the device's queue reported dropped (oldest first) before this batch. */
  dropped?: { batches: number; fromSeq: number };
  /** Records kept and refused by the record rules, kept with the batch for audits. */
  accepted: number;
  rejected: number;
}

/** `duplicate`: (deviceId, seq) was stored before; nothing of the batch was written. */
export type WriteOutcome = 'stored' | 'duplicate';

export type RollupResolution = 'hour' | 'day';
export type SeriesResolution = 'raw' | RollupResolution;

/** Who a rollup row aggregates: one device, every device of a hardware model or firmware version, or the fleet. */
export type RollupScope = 'device' | 'model' | 'firmware' | 'fleet';

/** One point of a series: a raw window, or a rollup bucket [startMs, endMs). */
export interface SeriesPoint {
  /** The device of a raw window; null for rollup buckets. */
  deviceId: string | null;
  startMs: number;
  endMs: number;
  min: number;
  max: number;
  avg: number;
  /** Sum of the samples (avg × count). */
  sum: number;
  count: number;
  last: number;
  lastAtMs: number;
}

export interface SeriesQuery {
  /** `device`: `key` is a device id; `model`, `firmware`: the group (current registry values); `fleet`: key ignored. */
  scope: RollupScope;
  key: string;
  metric: string;
  /** [fromMs, toMs) on the window or bucket start. */
  fromMs: number;
  toMs: number;
  resolution: SeriesResolution;
  /** At most this many points, oldest first. */
  limit: number;
}

export interface LatestValue {
  deviceId: string;
  metric: string;
  kind: MetricKind;
  /** End of the window the value is the last sample of. */
  atMs: number;
  value: number;
}

export interface StoredEvent extends TelemetryEvent {
  deviceId: string;
  /** The batch that carried it. */
  seq: number;
}

export interface EventQuery {
  deviceId: string;
  types?: readonly TelemetryEvent['type'][];
  severities?: readonly EventSeverity[];
  /** [fromMs, toMs) on atMs. */
  fromMs: number;
  toMs: number;
  /** At most this many, newest first. */
  limit: number;
}

/**
 * A device's metric over a time range, from its raw windows (the rollouts' health-regression gate).
 * `first`/`last` are the `last` samples of the earliest and latest window, at their window ends.
 */
export interface MetricSummary {
  sum: number;
  count: number;
  /** Σ (end − start) of the windows: the time the device's telemetry covers. */
  coveredMs: number;
  min: number;
  max: number;
  firstAtMs: number;
  first: number;
  lastAtMs: number;
  last: number;
}

/** deviceId → metric → summary; devices or metrics without windows in the range are absent. */
export type DeviceSummaries = Map<string, Map<string, MetricSummary>>;

export interface TelemetryStore {
  /**
   * Writes the batches in one transaction: for each, records (deviceId, seq) — a batch already
   * recorded (earlier, or earlier in this list) is `duplicate` and nothing of it is written — then
   * its raw windows, events, rollup increments (per device, hardware model, firmware version and
   * fleet, from the registry's current values) and newer latest values. Outcomes in input order.
   */
  writeBatches(batches: readonly BatchToStore[]): Promise<WriteOutcome[]>;
  /**
   * Distinct application metric names each device has sent (the too_many_metrics rule), sorted;
   * devices without any are absent. Many devices per call: ingest loads them in bursts.
   */
  appMetricNames(deviceIds: readonly string[]): Promise<Map<string, string[]>>;
  querySeries(query: SeriesQuery): Promise<SeriesPoint[]>;
  /** Latest values of the devices, by device then metric; only `metrics` when given. */
  latest(deviceIds: readonly string[], metrics?: readonly string[]): Promise<LatestValue[]>;
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  /**
   * Per device per metric over raw windows starting in [fromMs, toMs): sum, count, min, max, first
   * and last (see MetricSummary). The id list may be long; it is read in chunks.
   */
  summarizeDevices(
    deviceIds: readonly string[],
    metrics: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<DeviceSummaries>;
  /** The same, each device over its own range [fromMs, toMs). */
  summarizeRanges(
    ranges: ReadonlyArray<{ deviceId: string; fromMs: number; toMs: number }>,
    metrics: readonly string[],
  ): Promise<DeviceSummaries>;
}
