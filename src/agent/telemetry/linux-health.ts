/**
 * Health readings of a Linux device, for the agent daemon: uptime (/proc/uptime), memory
 * (/proc/meminfo: MemTotal − MemAvailable), storage (statfs of the data directory, counted like
 * df: used / (used + available to unprivileged users)), temperature
 * (/sys/class/thermal/thermal_zone0/temp, m°C) and battery (/sys/class/power_supply/<first
 * supply with a capacity>/capacity and voltage_now). What the device does not have is left out,
 * never faked; a reading outside the metric's plausible range (healthMetrics) is left out too.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { healthMetrics, type HealthMetric } from '../../contracts/telemetry-messages.ts';
import type { MetricSource } from './collector.ts';

export interface LinuxHealthOptions {
  /** Whose file system `storage_used_pct` measures. */
  dataDir: string;
  /** Roots of /proc and /sys (tests point them at fixtures). */
  procRoot?: string;
  sysRoot?: string;
}

export function linuxHealthSource(options: LinuxHealthOptions): MetricSource {
  const proc = options.procRoot ?? '/proc';
  const sys = options.sysRoot ?? '/sys';
  const readers: Partial<Record<HealthMetric, () => number | undefined>> = {
    uptime_s: () => {
      const first = readText(join(proc, 'uptime'))?.split(/\s+/)[0];
      return first === undefined ? undefined : Math.floor(Number(first));
    },
    memory_used_pct: () => {
      const text = readText(join(proc, 'meminfo'));
      if (text === undefined) return undefined;
      const total = meminfoKb(text, 'MemTotal');
      const available = meminfoKb(text, 'MemAvailable');
      if (!total || available === undefined) return undefined;
      return round2((100 * (total - available)) / total);
    },
    storage_used_pct: () => {
      try {
        const fs = statfsSync(options.dataDir);
        const used = fs.blocks - fs.bfree;
        const total = used + fs.bavail;
        return total > 0 ? round2((100 * used) / total) : undefined;
      } catch {
        return undefined;
      }
    },
    temperature_c: () => {
      const milli = Number(readText(join(sys, 'class/thermal/thermal_zone0/temp')));
      return Number.isFinite(milli) ? round2(milli / 1000) : undefined;
    },
    battery_pct: () => {
      const supply = batteryDir(sys);
      return supply === undefined ? undefined : Number(readText(join(supply, 'capacity')));
    },
    battery_v: () => {
      const supply = batteryDir(sys);
      const micro = supply === undefined ? NaN : Number(readText(join(supply, 'voltage_now')));
      return Number.isFinite(micro) ? round2(micro / 1e6) : undefined;
    },
  };
  return {
    read(names) {
      const out: Record<string, number> = {};
      for (const name of names) {
        const reader = readers[name as HealthMetric];
        const value = reader?.();
        if (value === undefined || !Number.isFinite(value)) continue;
        const range = healthMetrics[name as HealthMetric];
        if (value < range.min || value > range.max) continue;
        out[name] = value;
      }
      return out;
    },
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function meminfoKb(text: string, key: string): number | undefined {
  const match = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The first power supply with a capacity file (a battery), if any. */
function batteryDir(sys: string): string | undefined {
  const root = join(sys, 'class/power_supply');
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return undefined;
  }
  return names.map((name) => join(root, name)).find((dir) => readText(join(dir, 'capacity')) !== undefined);
}

const round2 = (value: number) => Math.round(value * 100) / 100;
