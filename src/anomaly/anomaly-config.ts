/**
 * The `anomaly:` section of the server configuration: how often the detectors run and how
 * sensitive each is. Defaults and the reasoning behind them: docs/anomaly-detection.md.
 */
import { z } from 'zod';

/** Per-device metrics compared against peers (same model and firmware). */
export const peerMetrics = [
  'battery_drain',
  'temperature_c',
  'memory_used_pct',
  'signal_dbm',
  'errors',
] as const;
export type PeerMetric = (typeof peerMetrics)[number];

/** Device attributes an offline cluster can be named by; `tag:<key>` is a device tag (e.g. `tag:site`). */
export const offlineFactorSchema = z
  .string()
  .regex(/^(region|firmware|model|tag:[A-Za-z0-9_.-]{1,64})$/, 'region, firmware, model or tag:<key>');
export type OfflineFactor = z.infer<typeof offlineFactorSchema>;

export const groupDimensions = ['firmware', 'model'] as const;
export type GroupDimension = (typeof groupDimensions)[number];

const probability = z.number().gt(0).max(0.5);

export const peerOutlierSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** How far back each device's telemetry is summarised. */
  windowS: z
    .number()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  /** Devices with data a peer group (model + firmware) needs before anyone in it is judged. */
  minPeers: z.number().int().min(3).max(100_000).default(20),
  /** |robust z| above this is an outlier (5 ≈ a 1-in-3.5-million event for normal data). */
  threshold: z.number().min(2).max(50).default(5),
  /** Consecutive evaluations a device must be an outlier on before its alert opens. */
  persistence: z.number().int().min(1).max(100).default(3),
  metrics: z.array(z.enum(peerMetrics)).default([...peerMetrics]),
});

export const offlineClusterSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Devices that went offline within this sliding window form a candidate cluster. */
  windowS: z.number().min(1).max(86_400).default(300),
  /** Devices a cluster needs. */
  minDevices: z.number().int().min(2).max(1_000_000).default(10),
  /** Share of the group's (recently) online devices that must have dropped. */
  minGroupShare: z.number().gt(0).max(1).default(0.5),
  /** The group must be over-represented among the dropped devices: binomial test at this level. */
  alpha: probability.default(1e-4),
  factors: z.array(offlineFactorSchema).min(1).default(['region', 'tag:site', 'firmware', 'model']),
  /** The cluster clears when fewer than this share of its devices are still offline. */
  clearShare: z.number().gt(0).max(1).default(0.5),
  /** Device ids listed in the alert's details at most. */
  maxDeviceIds: z.number().int().min(0).max(1000).default(50),
  /** Recently offline devices read per evaluation at most (a bound on the work of a huge outage). */
  maxDevicesRead: z.number().int().min(10).max(1_000_000).default(50_000),
});

export const errorRateSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The recent window whose rate is compared against the baseline just before it. */
  windowS: z
    .number()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  /** The baseline: the span before the window. */
  baselineS: z
    .number()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  /** Significance level of the one-sided Poisson exact test. */
  alpha: probability.default(1e-4),
  /** Smallest rate ratio (window / baseline) reported. */
  minRatio: z.number().min(1).max(1000).default(2),
  /** An open alert clears once the ratio is below this. */
  clearRatio: z.number().min(1).max(1000).default(1.25),
  /** Errors the window must hold. */
  minErrors: z.number().int().min(1).default(20),
  /** Samples the baseline must hold (600 ≈ 10 device-hours at the agent's 60 s health sample period). */
  minBaselineSamples: z.number().min(0).default(600),
  dimensions: z
    .array(z.enum(groupDimensions))
    .min(1)
    .default([...groupDimensions]),
  /** The counter compared. */
  metric: z.string().min(1).default('errors'),
});

export const anomalyConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Seconds between evaluations. */
  intervalS: z.number().min(0.05).max(86_400).default(60),
  peerOutliers: peerOutlierSchema.prefault({}),
  offlineClusters: offlineClusterSchema.prefault({}),
  errorRate: errorRateSchema.prefault({}),
});

export type AnomalyConfig = z.infer<typeof anomalyConfigSchema>;
export type PeerOutlierConfig = z.infer<typeof peerOutlierSchema>;
export type OfflineClusterConfig = z.infer<typeof offlineClusterSchema>;
export type ErrorRateConfig = z.infer<typeof errorRateSchema>;
