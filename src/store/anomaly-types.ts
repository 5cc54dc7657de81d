/**
 * What anomaly detection reads (src/anomaly/): aggregates over telemetry and the registry, each one
 * query however large the fleet — no per-device round trips. Implemented in sqlite/ and postgres/
 * and checked by one contract suite (test/anomaly/anomaly-store.contract.ts). Times are ms since
 * the epoch; the registry's current model, firmware, region and tags group the devices.
 */
import { ValidationError } from '../infra/errors.ts';

/** One device's metric over a range of raw windows, with the peer group it belongs to. */
export interface PeerSample {
  deviceId: string;
  model: string;
  firmware: string;
  metric: string;
  /** Σ avg × count over the windows: occurrences, for counters. */
  sum: number;
  /** Σ count: samples. */
  count: number;
  /** Σ (end − start): the time the device's windows cover. */
  coveredMs: number;
  /** The average of the earliest window and that window's mid-point. */
  firstAvg: number;
  firstAtMs: number;
  /** The average of the latest window and its mid-point. */
  lastAvg: number;
  lastAtMs: number;
}

/** A device that is offline, with the attributes an offline cluster can be named by. */
export interface OfflineDevice {
  deviceId: string;
  model: string | null;
  firmware: string | null;
  region: string | null;
  tags: Record<string, string>;
  /** When it went offline. */
  offlineSinceMs: number;
}

/** Devices with one value of an attribute (e.g. region = eu-west). */
export interface FactorCount {
  value: string;
  total: number;
  online: number;
}

/** A counter summed over a range for the devices of one model and firmware. */
export interface GroupCounterSum {
  model: string;
  firmware: string;
  /** Σ avg × count: occurrences. */
  sum: number;
  /** Σ count: samples, the exposure the rate is per. */
  samples: number;
}

/** `region`, `firmware`, `model` or `tag:<key>`. */
export type DeviceFactor = string;

export interface AnomalyStore {
  /**
   * Per device with a model and firmware, per metric, over raw windows starting in [fromMs, toMs).
   * One row per device and metric that has windows in the range; ordered by model, firmware.
   */
  peerSamples(metrics: readonly string[], fromMs: number, toMs: number): Promise<PeerSample[]>;
  /** Offline devices that went offline at or after `sinceMs`, newest first, at most `limit`. */
  recentlyOffline(sinceMs: number, limit: number): Promise<OfflineDevice[]>;
  /** Devices per value of the factor (devices without a value are left out). */
  factorCounts(factor: DeviceFactor): Promise<FactorCount[]>;
  /**
   * `metric` summed per (model, firmware) over windows starting in [fromMs, toMs): whole UTC hours
   * inside the range are read from the device hourly rollups, the edges from raw windows.
   */
  counterSums(metric: string, fromMs: number, toMs: number): Promise<GroupCounterSum[]>;
}

/** Where `counterSums` reads each part of [fromMs, toMs) from. Pure. */
export function splitAtHours(
  fromMs: number,
  toMs: number,
): { raw: [[number, number], [number, number]]; hours: [number, number] } {
  const hour = 3_600_000;
  const first = Math.ceil(fromMs / hour) * hour;
  const last = Math.floor(toMs / hour) * hour;
  if (last <= first)
    return {
      raw: [
        [fromMs, toMs],
        [toMs, toMs],
      ],
      hours: [first, first],
    };
  return {
    raw: [
      [fromMs, first],
      [last, toMs],
    ],
    hours: [first, last],
  };
}

/** The device column or expression grouping by a factor; `tag:` factors return the tag key to bind. */
export function factorColumn(factor: DeviceFactor): { column: string } | { tag: string } {
  if (factor === 'region') return { column: 'region' };
  if (factor === 'firmware') return { column: 'firmware_version' };
  if (factor === 'model') return { column: 'hardware_model' };
  if (factor.startsWith('tag:')) return { tag: factor.slice(4) };
  throw new ValidationError(`unknown device factor ${factor}`, { factor });
}
