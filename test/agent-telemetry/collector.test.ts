/** Sampling and on-device aggregation on fake time: windows, counters, events, reconfigure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  telemetryBatchSchema,
  type TelemetryEvent,
  type TelemetryWindow,
} from '../../src/contracts/telemetry-messages.ts';
import type { BatchContent } from '../../src/agent/telemetry/batch-pack.ts';
import { createCollector, type MetricSource } from '../../src/agent/telemetry/collector.ts';
import { TELEMETRY_DEFAULTS, type TelemetrySettings } from '../../src/agent/telemetry/settings.ts';
import { fakeTime } from '../helpers/fake-time.ts';

/** A multiple of every cadence used here, so windows start where the test starts. */
const T0 = 1_764_201_600_000;

function setup(settings: TelemetrySettings = TELEMETRY_DEFAULTS, sources: MetricSource[] = []) {
  const time = fakeTime(T0);
  const batches: BatchContent[] = [];
  const collector = createCollector(
    {
      clock: time.clock,
      timers: time.timers,
      random: () => 0,
      sink: (contents) => batches.push(...contents),
    },
    settings,
    sources,
  );
  const windows = (kind?: 'health' | 'app'): TelemetryWindow[] =>
    batches.flatMap((b) => b.windows).filter((w) => kind === undefined || w.kind === kind);
  const events = (): TelemetryEvent[] => batches.flatMap((b) => b.events);
  return { time, collector, batches, windows, events };
}

/** A battery that reads 90, 89, 88, … at successive samples. */
function batterySource(): MetricSource & { reads: number } {
  const source = {
    reads: 0,
    read(names: readonly string[]): Record<string, number> {
      if (!names.includes('battery_pct')) return {};
      source.reads += 1;
      return { battery_pct: 91 - source.reads, signal_dbm: -70 };
    },
  };
  return source;
}

describe('collector: health windows', () => {
  it('samples every 60 s and closes 5-minute windows of min/max/avg/count/last', () => {
    const { time, collector, windows } = setup(TELEMETRY_DEFAULTS, [batterySource()]);
    collector.start();
    time.advance(299_999);
    assert.equal(windows().length, 0, 'nothing before the window ends');
    time.advance(1);
    const [health] = windows('health');
    assert.ok(health);
    assert.equal(health.startMs, T0);
    assert.equal(health.endMs, T0 + 300_000);
    // Samples at +60, +120, +180, +240 s; the one at +300 s opens the next window.
    assert.deepEqual(health.values.battery_pct, { min: 87, max: 90, avg: 88.5, count: 4, last: 87 });
    assert.deepEqual(health.values.signal_dbm, { min: -70, max: -70, avg: -70, count: 4, last: -70 });
    assert.equal(health.values.temperature_c, undefined, 'absent sources are skipped, not faked');
    time.advance(300_000);
    const second = windows('health')[1];
    assert.equal(second?.startMs, T0 + 300_000);
    assert.equal(second?.values.battery_pct?.count, 5);
    for (const w of windows()) telemetryBatchSchema.parse({ seq: 1, windows: [w] });
  });

  it('counts counter occurrences per sample period so avg × count is the window total', () => {
    const { time, collector, windows } = setup();
    collector.start();
    time.advance(10_000);
    for (let i = 0; i < 3; i++) collector.increment('errors');
    time.advance(60_000); // +70 s
    collector.increment('errors', 2);
    collector.increment('disconnects');
    time.advance(230_000); // +300 s: the window closes
    const errors = windows('health')[0]?.values.errors;
    assert.ok(errors);
    // Periods [0,60) 3, [60,120) 2, then three without errors: five samples summing to 5.
    assert.equal(errors.count, 5);
    assert.equal(errors.avg * errors.count, 5);
    assert.equal(errors.max, 3);
    assert.equal(errors.min, 0);
    assert.equal(errors.last, 0);
    const disconnects = windows('health')[0]?.values.disconnects;
    assert.equal((disconnects?.avg ?? 0) * (disconnects?.count ?? 0), 1);
    const reboots = windows('health')[0]?.values.reboots;
    assert.deepEqual(reboots, { min: 0, max: 0, avg: 0, count: 5, last: 0 }, 'zero periods still count');
  });

  it('puts the occurrences of the period ending at a window boundary into the window that ends', () => {
    const { time, collector, windows } = setup();
    collector.start();
    time.advance(299_000);
    collector.increment('errors', 7);
    time.advance(1_000);
    time.advance(300_000);
    const [first, second] = windows('health');
    assert.equal(first?.values.errors?.last, 7);
    assert.equal((second?.values.errors?.avg ?? -1) * (second?.values.errors?.count ?? 0), 0);
  });
});

describe('collector: application metrics and events', () => {
  it('rolls application samples up per minute and sends every 30 s', () => {
    const { time, collector, windows, batches } = setup();
    collector.start();
    time.advance(5_000);
    assert.equal(collector.record('pump.flow_lpm', 10), true);
    time.advance(20_000);
    collector.record('pump.flow_lpm', 30);
    time.advance(40_000); // +65 s: minute 0 closed at +60 s and went out with that send
    collector.record('pump.flow_lpm', 50);
    const [minute] = windows('app');
    assert.deepEqual(minute?.values['pump.flow_lpm'], { min: 10, max: 30, avg: 20, count: 2, last: 30 });
    assert.equal(minute?.endMs, T0 + 60_000);
    const sentBefore = batches.length;
    time.advance(30_000); // +95 s: a send, but minute 1 is still open
    assert.equal(batches.length, sentBefore, 'empty sends produce no batch');
    time.advance(30_000); // +125 s
    assert.equal(windows('app')[1]?.values['pump.flow_lpm']?.last, 50);
  });

  it('counts application counters like health counters', () => {
    const { time, collector, windows } = setup();
    collector.start();
    assert.equal(collector.increment('jobs.failed', 4), true);
    time.advance(60_000);
    const jobs = windows('app')[0]?.values['jobs.failed'];
    // Application counters are sampled every 10 s: six periods per minute.
    assert.equal(jobs?.count, 6);
    assert.equal((jobs?.avg ?? 0) * (jobs?.count ?? 0), 4);
  });

  it('refuses bad names, non-numbers and mixing gauges with counters', () => {
    const { collector } = setup();
    collector.start();
    assert.equal(collector.record('Bad Name', 1), false);
    assert.equal(collector.record('ok', Number.NaN), false);
    assert.equal(collector.record('errors', 1), false, 'errors is a counter');
    assert.equal(collector.record('level', 1), true);
    assert.equal(collector.increment('level'), false, 'level is a gauge');
    assert.equal(collector.increment('battery_pct'), false, 'a health gauge');
    assert.equal(collector.increment('errors', -1), false);
    assert.equal(
      collector.event({ type: 'error', atMs: T0, severity: 'error', code: 'has space' }),
      false,
      'an event failing the schema never reaches a batch',
    );
  });

  it('sends events at once, with whatever windows have closed', () => {
    const { time, collector, batches, events } = setup();
    collector.start();
    collector.event({ type: 'boot', atMs: T0, severity: 'info', code: 'power_on' });
    collector.event({ type: 'error', atMs: T0, severity: 'error', code: 'E_SENSOR' });
    assert.equal(batches.length, 0);
    time.advance(0);
    assert.equal(batches.length, 1, 'events of one turn share a batch');
    assert.deepEqual(
      events().map((e) => e.code),
      ['power_on', 'E_SENSOR'],
    );
  });

  it('averages to a value the schema accepts despite rounding', () => {
    const { time, collector, windows } = setup();
    collector.start();
    for (let i = 0; i < 3; i++) collector.record('ratio', 0.1);
    time.advance(60_000);
    const ratio = windows('app')[0]?.values.ratio;
    assert.equal(ratio?.avg, 0.1);
  });
});

describe('collector: reconfigure and stop', () => {
  it('closes open windows at the change and follows the new cadence after it', () => {
    const { time, collector, windows } = setup(TELEMETRY_DEFAULTS, [batterySource()]);
    collector.start();
    time.advance(150_000);
    collector.increment('errors', 2);
    collector.reconfigure({
      ...TELEMETRY_DEFAULTS,
      metrics: { battery_pct: { sampleMs: 10_000, windowMs: 30_000 } },
    });
    time.advance(0);
    const partial = windows('health')[0];
    assert.equal(partial?.startMs, T0);
    assert.equal(partial?.endMs, T0 + 150_000, 'cut short at the change');
    assert.equal(partial?.values.battery_pct?.count, 2);
    assert.equal(partial?.values.errors?.avg && partial.values.errors.avg * partial.values.errors.count, 2);
    time.advance(30_000); // +180 s
    const battery = windows('health').filter((w) => w.values.battery_pct && w.endMs - w.startMs === 30_000);
    assert.equal(battery.length, 1);
    // The change sampled nothing at +150 s itself: samples at +160 and +170 s.
    assert.equal(battery[0]?.values.battery_pct?.count, 2);
    assert.equal(battery[0]?.values.signal_dbm, undefined, 'signal keeps its 5-minute window');
  });

  it('refuses a window that is not a whole number of sample periods', () => {
    const { collector } = setup();
    assert.throws(
      () => collector.reconfigure({ ...TELEMETRY_DEFAULTS, metrics: { x: { sampleMs: 7_000 } } }),
      /metrics\.x/,
    );
  });

  it('queues partial windows on stop', () => {
    const { time, collector, windows } = setup();
    collector.start();
    collector.record('level', 3);
    time.advance(20_000);
    collector.stop();
    assert.deepEqual(
      windows('app').map((w) => [w.startMs, w.endMs]),
      [[T0, T0 + 20_000]],
    );
  });
});
