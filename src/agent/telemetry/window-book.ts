/**
 * The open windows of every metric. A sample at time t belongs to the window
 * [floor(t / windowMs) · windowMs, … + windowMs): windows are aligned to the epoch, so the windows
 * of every device of a fleet line up and the server's hourly and daily rollups never split one.
 * Pure: time comes in as arguments.
 */
import { TELEMETRY_LIMITS, type TelemetryWindow } from '../../contracts/telemetry-messages.ts';
import { addSample, toAggregate, type Accumulator } from './aggregate.ts';
import type { MetricSettings } from './settings.ts';

interface OpenWindow {
  kind: 'health' | 'app';
  startMs: number;
  endMs: number;
  values: Map<string, Accumulator>;
}

export interface WindowBook {
  /** Adds a sample taken at `atMs` to its metric's window. */
  add(name: string, metric: MetricSettings, atMs: number, value: number): void;
  /** Takes out the windows that ended at or before `nowMs`, oldest first. */
  closeEnded(nowMs: number): TelemetryWindow[];
  /**
   * Takes out every window, those still open cut short at `nowMs` (at least 1 ms long): for a
   * stop or a change of cadence, so no sample is lost or counted in the wrong window.
   */
  closeAll(nowMs: number): TelemetryWindow[];
  /** Windows currently open. */
  size(): number;
}

export function windowStartMs(atMs: number, windowMs: number): number {
  return Math.floor(atMs / windowMs) * windowMs;
}

export function createWindowBook(): WindowBook {
  const open = new Map<string, OpenWindow>();

  function take(predicate: (w: OpenWindow) => boolean, endFor: (w: OpenWindow) => number): TelemetryWindow[] {
    const closed: OpenWindow[] = [];
    for (const [key, window] of open) {
      if (!predicate(window)) continue;
      open.delete(key);
      closed.push({ ...window, endMs: endFor(window) });
    }
    closed.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || a.kind.localeCompare(b.kind));
    return closed.flatMap(toWireWindows);
  }

  return {
    add(name, metric, atMs, value) {
      const startMs = windowStartMs(atMs, metric.windowMs);
      const endMs = startMs + metric.windowMs;
      const key = `${metric.kind}:${startMs}:${endMs}`;
      let window = open.get(key);
      if (!window) {
        window = { kind: metric.kind, startMs, endMs, values: new Map() };
        open.set(key, window);
      }
      window.values.set(name, addSample(window.values.get(name), value));
    },
    closeEnded: (nowMs) =>
      take(
        (w) => w.endMs <= nowMs,
        (w) => w.endMs,
      ),
    closeAll: (nowMs) =>
      take(
        () => true,
        (w) => Math.max(w.startMs + 1, Math.min(w.endMs, nowMs)),
      ),
    size: () => open.size,
  };
}

/** One open window as wire windows of at most TELEMETRY_LIMITS.metricsPerWindow metrics each. */
function toWireWindows(window: OpenWindow): TelemetryWindow[] {
  const names = [...window.values.keys()].sort();
  const out: TelemetryWindow[] = [];
  for (let i = 0; i < names.length; i += TELEMETRY_LIMITS.metricsPerWindow) {
    const values: TelemetryWindow['values'] = {};
    for (const name of names.slice(i, i + TELEMETRY_LIMITS.metricsPerWindow)) {
      values[name] = toAggregate(window.values.get(name) as Accumulator);
    }
    out.push({ kind: window.kind, startMs: window.startMs, endMs: window.endMs, values });
  }
  return out;
}
