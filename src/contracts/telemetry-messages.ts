/**
 * Schemas of telemetry: the single source of truth for the agent (aggregation, store-and-forward),
 * the gateway (MQTT and HTTPS transport), ingest and docs/telemetry.md.
 *
 *   fl/d/{id}/telemetry       device → cloud, QoS 1   TelemetryBatch
 *   fl/d/{id}/telemetry/ack   cloud → device, QoS 1   TelemetryAck
 *   POST /device/v1/telemetry device HTTPS            TelemetryUpload → TelemetryUploadResponse
 *                                                      (body may be Content-Encoding: gzip)
 *
 * A batch is what the device's outgoing queue holds: numbered by a per-device sequence that
 * survives restarts, sent until acknowledged, stored once by (device, seq).
 *
 * Three kinds of data:
 *   - windows: aggregates of sampled metrics over [startMs, endMs) — health metrics (a fixed set,
 *     `healthMetrics`) and application metrics (names the firmware chooses);
 *   - events: things that happened at one instant (error reports, boots, update statuses);
 *   - dropped: how much the device's queue discarded when it was full (oldest first).
 *
 * Structural rules live here; rules that need the server's clock or configuration (timestamps
 * far in the future or past, distinct application metric names per device) are applied by
 * ingest record by record, so one bad record never costs the rest of the batch.
 */
import { z } from 'zod';

/** Metric names: lower-case, dotted or underscored, starting with a letter. */
export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;

/** Limits of one batch (also documented in docs/telemetry.md). */
export const TELEMETRY_LIMITS = {
  /** Windows per batch. */
  windows: 200,
  /** Metrics per window. */
  metricsPerWindow: 64,
  /** Events per batch. */
  events: 200,
  /** Characters of an event message. */
  eventMessage: 512,
  /** Batches per HTTPS upload. */
  batchesPerUpload: 100,
  /** Bytes of an HTTPS upload body after decompression. */
  uploadBytes: 4 * 1024 * 1024,
} as const;

/**
 * The health metrics every agent knows, with their unit and plausible range. Values outside the
 * range are refused by ingest (a battery at 250 % is a broken sensor, not data).
 */
export const healthMetrics = {
  battery_pct: { unit: '%', min: 0, max: 100 },
  battery_v: { unit: 'V', min: 0, max: 100 },
  signal_dbm: { unit: 'dBm', min: -150, max: 0 },
  temperature_c: { unit: '°C', min: -60, max: 150 },
  memory_used_pct: { unit: '%', min: 0, max: 100 },
  storage_used_pct: { unit: '%', min: 0, max: 100 },
  uptime_s: { unit: 's', min: 0, max: 100 * 365 * 86400 },
  /**
   * Counters over the window (count = samples, values = occurrences per sample period): the
   * inputs of the rollouts' health-regression gate and the error-rate alerts.
   */
  errors: { unit: 'count', min: 0, max: 1e9 },
  reboots: { unit: 'count', min: 0, max: 1e9 },
  crashes: { unit: 'count', min: 0, max: 1e9 },
  disconnects: { unit: 'count', min: 0, max: 1e9 },
} as const;
export type HealthMetric = keyof typeof healthMetrics;
export const healthMetricNames = Object.keys(healthMetrics) as HealthMetric[];

const finite = z.number().finite();

/** An aggregate of `count` samples. `avg * count` is the sum (counters: total occurrences). */
export const aggregateSchema = z
  .strictObject({
    min: finite,
    max: finite,
    avg: finite,
    /** Samples aggregated (at least 1). */
    count: z.number().int().min(1).max(1e9),
    /** The last sample of the window. */
    last: finite,
  })
  .refine((a) => a.min <= a.avg && a.avg <= a.max && a.min <= a.last && a.last <= a.max, {
    message: 'min <= avg <= max and min <= last <= max',
  });
export type Aggregate = z.infer<typeof aggregateSchema>;

const epochMs = z
  .number()
  .int()
  .min(0)
  .max(2 ** 53 - 1);

export const telemetryWindowSchema = z
  .strictObject({
    kind: z.enum(['health', 'app']),
    /** Device clock, ms since the epoch: the window covers [startMs, endMs). */
    startMs: epochMs,
    endMs: epochMs,
    values: z
      .record(
        z.string().regex(METRIC_NAME_PATTERN, 'metric names match ^[a-z][a-z0-9_.]{0,63}$'),
        aggregateSchema,
      )
      .refine((v) => Object.keys(v).length >= 1, 'a window holds at least one metric')
      .refine(
        (v) => Object.keys(v).length <= TELEMETRY_LIMITS.metricsPerWindow,
        `at most ${TELEMETRY_LIMITS.metricsPerWindow} metrics per window`,
      ),
  })
  .refine((w) => w.startMs < w.endMs, { message: 'startMs must be before endMs', path: ['endMs'] })
  .refine((w) => w.kind === 'app' || Object.keys(w.values).every((name) => name in healthMetrics), {
    message: `health windows hold only ${healthMetricNames.join(', ')}`,
    path: ['values'],
  });
export type TelemetryWindow = z.infer<typeof telemetryWindowSchema>;

export const eventSeverities = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type EventSeverity = (typeof eventSeverities)[number];

export const telemetryEventSchema = z.strictObject({
  /** error: an error report; boot: the device started (code = boot reason); update: an update status. */
  type: z.enum(['error', 'boot', 'update']),
  atMs: epochMs,
  severity: z.enum(eventSeverities),
  /** Machine-readable, e.g. `E_SENSOR_TIMEOUT`, `watchdog`, `power_on`. */
  code: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'codes are 1-64 of [A-Za-z0-9_.:-]'),
  message: z.string().max(TELEMETRY_LIMITS.eventMessage).optional(),
});
export type TelemetryEvent = z.infer<typeof telemetryEventSchema>;

export const telemetryBatchSchema = z
  .strictObject({
    /** Per device, strictly increasing across the device's life (persisted with its queue). */
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Device clock when the batch was (re)sent; lets the server measure clock skew. */
    sentAtMs: epochMs.optional(),
    windows: z.array(telemetryWindowSchema).max(TELEMETRY_LIMITS.windows).default([]),
    events: z.array(telemetryEventSchema).max(TELEMETRY_LIMITS.events).default([]),
    /** What the device's queue discarded (oldest first) since its previous batch, when full. */
    dropped: z
      .strictObject({ batches: z.number().int().min(1), fromSeq: z.number().int().nonnegative() })
      .optional(),
  })
  .refine((b) => b.windows.length + b.events.length > 0 || b.dropped !== undefined, {
    message: 'a batch holds at least one window or event (or a dropped report)',
  });
export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;
export type TelemetryBatchInput = z.input<typeof telemetryBatchSchema>;

/** Why ingest refused one record of an otherwise accepted batch (record-level rules). */
export const recordRejections = [
  'timestamp_future', // later than the server's now + allowed clock skew
  'timestamp_past', // older than the oldest data the server keeps (raw retention)
  'out_of_range', // a health metric outside its plausible range (healthMetrics)
  'too_many_metrics', // a new application metric name past the per-device limit
] as const;
export type RecordRejection = (typeof recordRejections)[number];

/**
 * The server's answer to one batch. `stored`: written (some records may have been refused,
 * listed in `rejected`). `duplicate`: this (device, seq) was stored before; nothing written.
 * `invalid`: the batch fails its schema and never will pass: the device must drop it, not resend.
 * Every outcome means "delete this batch from your queue"; no ack means "send it again later".
 */
export const telemetryAckSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  outcome: z.enum(['stored', 'duplicate', 'invalid']),
  /** Records kept (windows × metrics + events). */
  accepted: z.number().int().nonnegative(),
  rejected: z
    .array(
      z.strictObject({
        /** Where in the batch, e.g. `windows.3.values.battery_pct` or `events.0`. */
        path: z.string(),
        reason: z.union([z.enum(recordRejections), z.literal('invalid')]),
        message: z.string(),
      }),
    )
    .max(100),
});
export type TelemetryAck = z.infer<typeof telemetryAckSchema>;

/** `POST /device/v1/telemetry`: batches in sequence order. */
export const telemetryUploadSchema = z.strictObject({
  batches: z.array(z.unknown()).min(1).max(TELEMETRY_LIMITS.batchesPerUpload),
});
export type TelemetryUpload = z.infer<typeof telemetryUploadSchema>;

export const telemetryUploadResponseSchema = z.strictObject({
  acks: z.array(telemetryAckSchema),
});
export type TelemetryUploadResponse = z.infer<typeof telemetryUploadResponseSchema>;
