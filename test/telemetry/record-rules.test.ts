import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverConfigSchema } from '../../src/config/schema.ts';
import { telemetryBatchSchema, type TelemetryBatchInput } from '../../src/contracts/telemetry-messages.ts';
import { decodeBatch } from '../../src/telemetry/decode-batch.ts';
import { applyRecordRules } from '../../src/telemetry/record-rules.ts';
import { DAY_MS } from '../../src/telemetry/rollups.ts';

const settings = serverConfigSchema.parse({}).telemetry;
const now = Date.UTC(2026, 5, 1, 12);
const agg = (value: number) => ({ min: value, max: value, avg: value, count: 1, last: value });

function parse(input: TelemetryBatchInput) {
  return telemetryBatchSchema.parse(input);
}

function check(input: TelemetryBatchInput, known: string[] = []) {
  return applyRecordRules(parse(input), {
    nowMs: now,
    settings,
    knownAppMetricNames: new Set(known),
  });
}

const health = (startMs: number, values: Record<string, number>) => ({
  kind: 'health' as const,
  startMs,
  endMs: startMs + 300_000,
  values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, agg(v)])),
});
const app = (startMs: number, names: string[]) => ({
  kind: 'app' as const,
  startMs,
  endMs: startMs + 60_000,
  values: Object.fromEntries(names.map((n) => [n, agg(1)])),
});

describe('telemetry config defaults', () => {
  it('documents the defaults of the issue', () => {
    assert.equal(settings.maxClockSkewS, 300);
    assert.equal(settings.maxAppMetricsPerDevice, 100);
    assert.deepEqual(
      [settings.retentionDays.healthRaw, settings.retentionDays.appRaw, settings.retentionDays.events],
      [90, 30, 365],
    );
  });
});

describe('record rules', () => {
  it('keeps every record of a valid batch and counts window metrics and events', () => {
    const checked = check({
      seq: 1,
      windows: [
        health(now - 600_000, { battery_pct: 80, signal_dbm: -70 }),
        app(now - 60_000, ['pump.flow']),
      ],
      events: [{ type: 'boot', atMs: now - 1000, severity: 'info', code: 'power_on' }],
    });
    assert.equal(checked.accepted, 4);
    assert.deepEqual(checked.rejected, []);
    assert.deepEqual(checked.newAppMetricNames, ['pump.flow']);
    assert.deepEqual(checked.windows[0], {
      kind: 'health',
      metric: 'battery_pct',
      startMs: now - 600_000,
      endMs: now - 300_000,
      ...agg(80),
    });
  });

  it('refuses a window ending past now + skew, and keeps the rest of the batch', () => {
    const checked = check({
      seq: 1,
      windows: [
        health(now + 301_000 - 300_000, { battery_pct: 80, battery_v: 4 }),
        health(now - 300_000, { battery_pct: 81 }),
      ],
    });
    assert.deepEqual(
      checked.rejected.map((r) => [r.path, r.reason, r.records]),
      [['windows.0', 'timestamp_future', 2]],
    );
    assert.equal(checked.accepted, 1);
    assert.equal(checked.rejectedRecords, 2);
    // Exactly at the skew limit is still accepted.
    assert.equal(check({ seq: 1, windows: [health(now, { battery_pct: 1 })] }).accepted, 1);
  });

  it('refuses records older than the raw retention of their kind', () => {
    const fortyDaysAgo = now - 40 * DAY_MS;
    const checked = check({
      seq: 1,
      windows: [
        health(fortyDaysAgo, { battery_pct: 50 }),
        app(fortyDaysAgo, ['x.y']),
        health(now - 91 * DAY_MS, { battery_pct: 50 }),
      ],
      events: [
        { type: 'error', atMs: now - 366 * DAY_MS, severity: 'error', code: 'E1' },
        { type: 'error', atMs: now - 364 * DAY_MS, severity: 'error', code: 'E2' },
        { type: 'error', atMs: now + 400_000, severity: 'error', code: 'E3' },
      ],
    });
    assert.deepEqual(
      checked.rejected.map((r) => [r.path, r.reason]),
      [
        ['windows.1', 'timestamp_past'],
        ['windows.2', 'timestamp_past'],
        ['events.0', 'timestamp_past'],
        ['events.2', 'timestamp_future'],
      ],
    );
    assert.deepEqual(
      checked.events.map((e) => e.code),
      ['E2'],
    );
    assert.deepEqual(
      checked.windows.map((w) => w.metric),
      ['battery_pct'],
    );
  });

  it('refuses a health metric outside its range, only that metric, also in an app window', () => {
    const checked = check({
      seq: 1,
      windows: [
        health(now - 300_000, { battery_pct: 250, signal_dbm: -60, temperature_c: -61 }),
        { ...app(now - 60_000, []), values: { battery_pct: agg(101), flow: agg(5) } },
      ],
    });
    assert.deepEqual(
      checked.rejected.map((r) => [r.path, r.reason]),
      [
        ['windows.0.values.battery_pct', 'out_of_range'],
        ['windows.0.values.temperature_c', 'out_of_range'],
        ['windows.1.values.battery_pct', 'out_of_range'],
      ],
    );
    assert.deepEqual(
      checked.windows.map((w) => w.metric),
      ['signal_dbm', 'flow'],
    );
    assert.deepEqual(checked.newAppMetricNames, ['flow']);
  });

  it('refuses new application metric names past the per-device limit; known names and health metrics pass', () => {
    const known = Array.from({ length: settings.maxAppMetricsPerDevice - 1 }, (_, i) => `m${i}`);
    const checked = check(
      {
        seq: 1,
        windows: [
          app(now - 60_000, ['m0', 'new.a', 'new.b']),
          app(now - 120_000, ['new.a', 'new.c', 'uptime_s']),
        ],
      },
      known,
    );
    assert.deepEqual(
      checked.rejected.map((r) => [r.path, r.reason]),
      [
        ['windows.0.values.new.b', 'too_many_metrics'],
        ['windows.1.values.new.c', 'too_many_metrics'],
      ],
    );
    assert.deepEqual(checked.newAppMetricNames, ['new.a']);
    assert.equal(checked.accepted, 4);
  });
});

describe('decodeBatch', () => {
  it('returns the valid batch', () => {
    const decoded = decodeBatch({ seq: 3, events: [{ type: 'boot', atMs: 1, severity: 'info', code: 'x' }] });
    assert.equal(decoded.kind, 'batch');
  });

  it('acks a batch with a seq that fails its schema as invalid, with the issues', () => {
    const decoded = decodeBatch({
      seq: 9,
      windows: [{ ...health(now, { battery_pct: 1 }), endMs: now - 1 }],
      extra: 1,
    });
    assert.equal(decoded.kind, 'invalid');
    if (decoded.kind !== 'invalid') return;
    assert.equal(decoded.ack.seq, 9);
    assert.equal(decoded.ack.outcome, 'invalid');
    assert.equal(decoded.ack.accepted, 0);
    assert.ok(decoded.ack.rejected.every((r) => r.reason === 'invalid'));
    assert.ok(decoded.ack.rejected.some((r) => r.path === 'windows.0.endMs'));
  });

  it('caps the rejected list of an invalid ack at 100 entries', () => {
    const events = Array.from({ length: 150 }, () => ({
      type: 'nope',
      atMs: 1,
      severity: 'info',
      code: 'x',
    }));
    const decoded = decodeBatch({ seq: 1, events });
    assert.equal(decoded.kind === 'invalid' && decoded.ack.rejected.length, 100);
  });

  it('calls a payload without an integer seq malformed', () => {
    for (const json of [null, [], 'x', { seq: -1 }, { seq: 1.5 }, { seq: '1' }, { windows: [] }])
      assert.equal(decodeBatch(json).kind, 'malformed', JSON.stringify(json));
  });
});
