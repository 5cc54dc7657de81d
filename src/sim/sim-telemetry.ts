/**
 * Plausible telemetry for a simulated device, cheap enough for hundreds per process: a battery
 * draining slowly with noise, signal around a per-device mean, temperature following the day,
 * memory and storage around a per-device level, uptime since boot, and an `errors` counter drawn
 * from a Poisson process whose rate depends on the firmware (sim-firmware.ts, ERROR_RATE_MARKER).
 * Deterministic per (seed, device): a seeded PRNG, no Math.random.
 */
import type { MetricSource } from '../agent/telemetry/collector.ts';
import { mix32, mulberry32 } from './attributes.ts';
import { batteryDrainFactorAt, errorFactorAt, type FaultLookup } from './sim-faults.ts';

export const SIM_TELEMETRY_DEFAULTS = {
  /** Errors per second of a device on healthy firmware (~1 per 100 s). */
  errorRatePerS: 0.01,
  /** Battery percentage points lost per hour. */
  batteryDrainPerHour: 0.5,
} as const;

export interface SimSourceOptions {
  /** Seeds this device's PRNG: the same seed gives the same device. */
  seed: number;
  /** When the device booted (uptime starts here), ms since the epoch. */
  bootMs: number;
  errorRatePerS?: number;
  /** Multiplies the error rate (errorRateFactor of the booted image). */
  errorFactor?: number;
  batteryDrainPerHour?: number;
  /** A fault planted while the device runs (sim-faults.ts): faster battery drain, more errors. */
  fault?: FaultLookup;
}

export function simTelemetrySource(options: SimSourceOptions): MetricSource {
  const random = mulberry32(mix32(options.seed));
  const rate = (options.errorRatePerS ?? SIM_TELEMETRY_DEFAULTS.errorRatePerS) * (options.errorFactor ?? 1);
  const drainPerMs = (options.batteryDrainPerHour ?? SIM_TELEMETRY_DEFAULTS.batteryDrainPerHour) / 3_600_000;
  const batteryAtBoot = 60 + 40 * random();
  const signalMean = -100 + 45 * random();
  const temperatureMean = 15 + 20 * random();
  const memoryMean = 25 + 40 * random();
  const storageAtBoot = 20 + 50 * random();
  let lastErrorsAtMs = options.bootMs;
  // The battery integrates its drain, so a fault planted later changes the slope from then on.
  let battery = batteryAtBoot;
  let batteryAtMs = options.bootMs;
  const batteryAt = (now: number): number => {
    if (now > batteryAtMs) {
      battery -= drainPerMs * batteryDrainFactorAt(options.fault?.(), now) * (now - batteryAtMs);
      batteryAtMs = now;
    }
    return battery;
  };
  const noise = (spread: number) => (random() + random() + random() - 1.5) * spread;
  const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
  const round = (value: number) => Math.round(value * 100) / 100;

  const readers: Record<string, (nowMs: number) => number> = {
    battery_pct: (now) => clamp(round(batteryAt(now) + noise(0.3)), 0, 100),
    battery_v: (now) => round(3.3 + (0.9 * clamp(batteryAt(now), 0, 100)) / 100),
    signal_dbm: () => clamp(round(signalMean + noise(4)), -150, 0),
    temperature_c: (now) =>
      round(temperatureMean + 4 * Math.sin((2 * Math.PI * (now % 86_400_000)) / 86_400_000) + noise(0.5)),
    memory_used_pct: () => clamp(round(memoryMean + noise(3)), 0, 100),
    storage_used_pct: (now) => clamp(round(storageAtBoot + (now - options.bootMs) / 3_600_000 / 100), 0, 100),
    uptime_s: (now) => Math.max(0, Math.floor((now - options.bootMs) / 1000)),
    errors: (now) => {
      const elapsedS = Math.max(0, now - lastErrorsAtMs) / 1000;
      lastErrorsAtMs = now;
      return poisson(rate * errorFactorAt(options.fault?.(), now) * elapsedS, random);
    },
  };
  return {
    read(names, nowMs) {
      const out: Record<string, number> = {};
      for (const name of names) {
        const reader = readers[name];
        if (reader) out[name] = reader(nowMs);
      }
      return out;
    },
  };
}

/** A Poisson draw: Knuth's method for small means, a rounded normal approximation above 30. */
export function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}
