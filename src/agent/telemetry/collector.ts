/**
 * Sampling and aggregation on the device's clock: reads the metric sources every sample period,
 * turns counter occurrences into one sample per period, closes windows as they end and hands
 * batch contents to `sink` every send period (events at once). Clock and timers are injected.
 *
 * Timing (all aligned to multiples since the epoch, so cadences nest):
 *   - tick T of a sample period S (T a multiple of S): sources are read and each reading is a
 *     sample at T; each counter's occurrences since its previous tick become one sample of the
 *     period [T − S, T) (even 0, so `count` is the number of periods and `avg × count` the total);
 *   - windows that ended at or before T are closed after that tick's samples are in;
 *   - every sendMs (offset by a per-device random phase, so a fleet does not send in lockstep),
 *     closed windows are packed into batches; events are packed at once with whatever closed.
 * A tick that fires late (a suspended device) runs once for its latest due time.
 */
import {
  METRIC_NAME_PATTERN,
  telemetryEventSchema,
  type TelemetryEvent,
  type TelemetryWindow,
} from '../../contracts/telemetry-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import { packBatches, type BatchContent } from './batch-pack.ts';
import { createWindowBook } from './window-book.ts';
import {
  HEALTH_COUNTERS,
  healthGauges,
  isHealthMetric,
  metricSettings,
  validateSettings,
  type TelemetrySettings,
} from './settings.ts';

/** Where readings come from (/proc, a battery gauge, the simulator). Synchronous: reads are cheap. */
export interface MetricSource {
  /**
   * Readings of the metrics in `names` this source knows, leaving out the rest (absent hardware is
   * skipped, never faked). For a counter the value is its occurrences since the previous read.
   */
  read(names: readonly string[], nowMs: number): Record<string, number>;
}

export interface CollectorDeps {
  clock: Clock;
  timers: Timers;
  /** Uniform in [0, 1): the phase of the send period. */
  random: () => number;
  /** Receives the contents of new batches, in order. */
  sink: (contents: BatchContent[]) => void;
}

export interface Collector {
  start(): void;
  /** Closes every open window at now (partial windows) and hands out what is left. */
  stop(): void;
  /** Records one sample of an application (or health) metric at now; false when refused. */
  record(name: string, value: number): boolean;
  /** Adds occurrences to a counter (health counters or an application counter name); false when refused. */
  increment(name: string, by?: number): boolean;
  /** Queues an event, packed into a batch at once (on the next timer turn); false when it fails the schema. */
  event(event: TelemetryEvent): boolean;
  /** Applies new cadences at run time: open windows close at now, new ones follow the new settings. */
  reconfigure(settings: TelemetrySettings): void;
  settings(): TelemetrySettings;
}

/** Distinct application metric names kept per device (bounds memory; ingest has its own limit). */
export const MAX_APP_METRICS = 256;

export function createCollector(
  deps: CollectorDeps,
  initial: TelemetrySettings,
  sources: readonly MetricSource[],
): Collector {
  const { clock, timers } = deps;
  validateSettings(initial);
  let settings = initial;
  const book = createWindowBook();
  const pendingCounts = new Map<string, number>();
  const appCounters = new Set<string>();
  const appNames = new Set<string>();
  let closed: TelemetryWindow[] = [];
  let events: TelemetryEvent[] = [];
  let running = false;
  let timer: unknown;
  let eventTimer: unknown;
  /** Last tick handled per sample period, so each due time runs once. */
  const lastTick = new Map<number, number>();
  let sendPhaseMs = 0;
  let lastSend = 0;

  const counters = () => [...HEALTH_COUNTERS, ...appCounters];

  /** Sample periods in use, each with the gauges and counters sampled at it. */
  function groups(): Map<number, { gauges: string[]; counters: string[] }> {
    const out = new Map<number, { gauges: string[]; counters: string[] }>();
    const group = (ms: number) => {
      let g = out.get(ms);
      if (!g) out.set(ms, (g = { gauges: [], counters: [] }));
      return g;
    };
    for (const name of healthGauges) group(metricSettings(settings, name).sampleMs).gauges.push(name);
    for (const name of counters()) group(metricSettings(settings, name).sampleMs).counters.push(name);
    return out;
  }

  const nextMultiple = (nowMs: number, periodMs: number, phaseMs = 0) =>
    Math.floor((nowMs - phaseMs) / periodMs) * periodMs + phaseMs + periodMs;

  function sampleGroup(tickMs: number, names: { gauges: string[]; counters: string[] }) {
    const wanted = [...names.gauges, ...names.counters];
    for (const source of sources) {
      for (const [name, value] of Object.entries(source.read(wanted, tickMs))) {
        if (!Number.isFinite(value) || !wanted.includes(name)) continue;
        if (names.counters.includes(name)) addCount(name, value);
        else book.add(name, metricSettings(settings, name), tickMs, value);
      }
    }
    for (const name of names.counters) {
      const count = pendingCounts.get(name) ?? 0;
      pendingCounts.delete(name);
      // The occurrences of [tick − period, tick): a sample inside that period.
      book.add(name, metricSettings(settings, name), tickMs - 1, count);
    }
  }

  function addCount(name: string, by: number): void {
    pendingCounts.set(name, (pendingCounts.get(name) ?? 0) + by);
  }

  function tick(): void {
    timer = undefined;
    if (!running) return;
    const now = clock.now();
    for (const [periodMs, names] of groups()) {
      const due = Math.floor(now / periodMs) * periodMs;
      if ((lastTick.get(periodMs) ?? -1) >= due) continue;
      lastTick.set(periodMs, due);
      sampleGroup(due, names);
    }
    closed.push(...book.closeEnded(now));
    const sendDue = nextMultiple(now, settings.sendMs, sendPhaseMs) - settings.sendMs;
    if (sendDue > lastSend) {
      lastSend = sendDue;
      flush();
    }
    arm();
  }

  function arm(): void {
    const now = clock.now();
    let next = nextMultiple(now, settings.sendMs, sendPhaseMs);
    for (const periodMs of groups().keys()) next = Math.min(next, nextMultiple(now, periodMs));
    timer = timers.setTimeout(tick, next - now);
  }

  function flush(): void {
    if (closed.length === 0 && events.length === 0) return;
    const contents = packBatches(closed, events);
    closed = [];
    events = [];
    deps.sink(contents);
  }

  function closeEverything(): void {
    const now = clock.now();
    // Occurrences since the last tick: one more (partial-period) sample, if there were any.
    for (const [name, count] of pendingCounts) {
      if (count > 0) book.add(name, metricSettings(settings, name), now, count);
    }
    pendingCounts.clear();
    closed.push(...book.closeAll(now));
  }

  function disarm(): void {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  }

  /** Admits an application metric name, up to MAX_APP_METRICS distinct ones. */
  function admitApp(name: string): boolean {
    if (!METRIC_NAME_PATTERN.test(name)) return false;
    if (appNames.has(name)) return true;
    if (appNames.size >= MAX_APP_METRICS) return false;
    appNames.add(name);
    return true;
  }

  return {
    start() {
      if (running) return;
      running = true;
      const now = clock.now();
      sendPhaseMs = Math.floor(deps.random() * settings.sendMs);
      lastSend = nextMultiple(now, settings.sendMs, sendPhaseMs) - settings.sendMs;
      // The first tick of each period samples from then on; nothing is due for the past.
      for (const periodMs of groups().keys()) lastTick.set(periodMs, Math.floor(now / periodMs) * periodMs);
      arm();
    },
    stop() {
      if (!running) return;
      running = false;
      disarm();
      if (eventTimer !== undefined) timers.clearTimeout(eventTimer);
      eventTimer = undefined;
      closeEverything();
      flush();
    },
    record(name, value) {
      if (!Number.isFinite(value) || HEALTH_COUNTERS.has(name) || appCounters.has(name)) return false;
      if (!isHealthMetric(name) && !admitApp(name)) return false;
      book.add(name, metricSettings(settings, name), clock.now(), value);
      return true;
    },
    increment(name, by = 1) {
      if (!Number.isFinite(by) || by < 0) return false;
      if (!HEALTH_COUNTERS.has(name)) {
        if (isHealthMetric(name)) return false; // a health gauge
        if (appNames.has(name) && !appCounters.has(name)) return false; // already an application gauge
        if (!admitApp(name)) return false;
        if (!appCounters.has(name)) {
          appCounters.add(name);
          const periodMs = metricSettings(settings, name).sampleMs;
          if (!lastTick.has(periodMs)) lastTick.set(periodMs, Math.floor(clock.now() / periodMs) * periodMs);
          if (running) {
            disarm();
            arm();
          }
        }
      }
      addCount(name, by);
      return true;
    },
    event(event) {
      // One bad event must not make the server refuse the whole batch (and its windows).
      if (!telemetryEventSchema.safeParse(event).success) return false;
      events.push(event);
      if (!running || eventTimer !== undefined) return true;
      eventTimer = timers.setTimeout(() => {
        eventTimer = undefined;
        flush();
      }, 0);
      return true;
    },
    reconfigure(next) {
      validateSettings(next);
      closeEverything();
      settings = next;
      lastTick.clear();
      const now = clock.now();
      for (const periodMs of groups().keys()) lastTick.set(periodMs, Math.floor(now / periodMs) * periodMs);
      if (running) {
        disarm();
        sendPhaseMs = Math.floor(deps.random() * settings.sendMs);
        lastSend = nextMultiple(now, settings.sendMs, sendPhaseMs) - settings.sendMs;
        flush();
        arm();
      }
    },
    settings: () => settings,
  };
}
