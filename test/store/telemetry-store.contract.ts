/**
 * The TelemetryStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores; the suite closes them.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Stores } from '../../src/store/open-store.ts';
import type { BatchToStore, WindowRow } from '../../src/store/telemetry-types.ts';
import { DAY_MS, HOUR_MS } from '../../src/telemetry/rollups.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';

/** 2025-01-01T00:00Z. */
export const tt0 = Date.UTC(2025, 0, 1);
const minute = 60_000;

export function windowRow(overrides: Partial<WindowRow> = {}): WindowRow {
  return {
    kind: 'health',
    metric: 'battery_pct',
    startMs: tt0,
    endMs: tt0 + 5 * minute,
    min: 40,
    max: 60,
    avg: 50,
    count: 5,
    last: 45,
    ...overrides,
  };
}

export function batch(deviceId: string, seq: number, overrides: Partial<BatchToStore> = {}): BatchToStore {
  return {
    deviceId,
    seq,
    receivedAtMs: tt0 + DAY_MS,
    windows: [windowRow()],
    events: [],
    accepted: 1,
    rejected: 0,
    ...overrides,
  };
}

export function telemetryStoreContract(makeStores: StoresFactory): void {
  describe('TelemetryStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
      await stores.devices.createDevice(
        { id: 'd1', serial: 'S1', hardwareModel: 'm1', firmwareVersion: '1.0' },
        tt0,
      );
      await stores.devices.createDevice(
        { id: 'd2', serial: 'S2', hardwareModel: 'm1', firmwareVersion: '2.0' },
        tt0,
      );
      await stores.devices.createDevice(
        { id: 'd3', serial: 'S3', hardwareModel: 'm2', firmwareVersion: '2.0' },
        tt0,
      );
    });
    afterEach(async () => {
      await stores.close();
    });
    const telemetry = () => stores.telemetry;
    const range = { fromMs: tt0 - DAY_MS, toMs: tt0 + 3 * DAY_MS, limit: 1000 };

    it('stores a batch once: a re-sent (device, seq) is a duplicate, also within one write', async () => {
      assert.deepEqual(await telemetry().writeBatches([batch('d1', 1), batch('d2', 1), batch('d1', 1)]), [
        'stored',
        'stored',
        'duplicate',
      ]);
      assert.deepEqual(await telemetry().writeBatches([batch('d1', 1), batch('d1', 2)]), [
        'duplicate',
        'stored',
      ]);
      const points = await telemetry().querySeries({
        scope: 'device',
        key: 'd1',
        metric: 'battery_pct',
        resolution: 'raw',
        ...range,
      });
      assert.equal(points.length, 2, 'seq 1 and seq 2, each once');
      assert.deepEqual(points[0], {
        deviceId: 'd1',
        startMs: tt0,
        endMs: tt0 + 5 * minute,
        min: 40,
        max: 60,
        avg: 50,
        sum: 250,
        count: 5,
        last: 45,
        lastAtMs: tt0 + 5 * minute,
      });
    });

    it('rolls windows up per hour and day, per device, model, firmware and fleet, across writes', async () => {
      const w = (startMs: number, min: number, max: number, avg: number, last: number) =>
        windowRow({ startMs, endMs: startMs + 5 * minute, min, max, avg, last, count: 2 });
      // d1: two windows in hour 0 of day 0, one in hour 1; d2: one in hour 0; d1: one on day 1.
      await telemetry().writeBatches([
        batch('d1', 1, { windows: [w(tt0, 10, 20, 15, 12), w(tt0 + 10 * minute, 5, 30, 20, 30)] }),
      ]);
      await telemetry().writeBatches([
        batch('d1', 2, { windows: [w(tt0 + HOUR_MS, 50, 60, 55, 51)] }),
        batch('d2', 1, { windows: [w(tt0 + 20 * minute, 1, 2, 1.5, 2)] }),
      ]);
      await telemetry().writeBatches([batch('d1', 3, { windows: [w(tt0 + DAY_MS, 70, 80, 75, 71)] })]);

      const series = (
        scope: 'device' | 'model' | 'firmware' | 'fleet',
        key: string,
        resolution: 'hour' | 'day',
      ) => telemetry().querySeries({ scope, key, metric: 'battery_pct', resolution, ...range });
      const hourly = await series('device', 'd1', 'hour');
      assert.deepEqual(
        hourly.map((p) => [p.startMs, p.endMs, p.min, p.max, p.sum, p.count, p.last, p.lastAtMs]),
        [
          [tt0, tt0 + HOUR_MS, 5, 30, 70, 4, 30, tt0 + 15 * minute],
          [tt0 + HOUR_MS, tt0 + 2 * HOUR_MS, 50, 60, 110, 2, 51, tt0 + HOUR_MS + 5 * minute],
          [tt0 + DAY_MS, tt0 + DAY_MS + HOUR_MS, 70, 80, 150, 2, 71, tt0 + DAY_MS + 5 * minute],
        ],
      );
      assert.equal(hourly[0]?.avg, 17.5);
      assert.equal(hourly[0]?.deviceId, null);
      const daily = await series('device', 'd1', 'day');
      assert.deepEqual(
        daily.map((p) => [p.startMs, p.min, p.max, p.sum, p.count, p.last]),
        [
          [tt0, 5, 60, 180, 6, 51],
          [tt0 + DAY_MS, 70, 80, 150, 2, 71],
        ],
      );
      // Model m1 holds d1 and d2; firmware 2.0 holds d2 (and d3, which sent nothing).
      const model = await series('model', 'm1', 'day');
      assert.deepEqual(
        model.map((p) => [p.startMs, p.min, p.max, p.sum, p.count]),
        [
          [tt0, 1, 60, 183, 8],
          [tt0 + DAY_MS, 70, 80, 150, 2],
        ],
      );
      const firmware = await series('firmware', '2.0', 'hour');
      assert.deepEqual(
        firmware.map((p) => [p.startMs, p.sum, p.count, p.last]),
        [[tt0, 3, 2, 2]],
      );
      const fleet = await series('fleet', '', 'day');
      assert.equal(fleet[0]?.count, 8);
      assert.equal(fleet[0]?.last, 51, 'the latest-ending window of the bucket');
      assert.deepEqual(await series('model', 'm2', 'day'), []);
    });

    it('reads raw windows of a group through the registry', async () => {
      await telemetry().writeBatches([
        batch('d1', 1, { windows: [windowRow({ startMs: tt0 + minute, endMs: tt0 + 2 * minute })] }),
        batch('d3', 1),
        batch('d2', 1),
      ]);
      const ofModel = await telemetry().querySeries({
        scope: 'model',
        key: 'm1',
        metric: 'battery_pct',
        resolution: 'raw',
        ...range,
      });
      assert.deepEqual(
        ofModel.map((p) => p.deviceId),
        ['d2', 'd1'],
      );
      const ofFleet = await telemetry().querySeries({
        scope: 'fleet',
        key: '',
        metric: 'battery_pct',
        resolution: 'raw',
        ...range,
        limit: 2,
      });
      assert.deepEqual(
        ofFleet.map((p) => p.deviceId),
        ['d2', 'd3'],
      );
    });

    it('keeps the latest value per device and metric, replaced only by a newer one', async () => {
      await telemetry().writeBatches([
        batch('d1', 1, {
          windows: [
            windowRow({ startMs: tt0 + HOUR_MS, endMs: tt0 + HOUR_MS + minute, last: 44 }),
            windowRow({
              kind: 'app',
              metric: 'pump.flow',
              startMs: tt0,
              endMs: tt0 + minute,
              last: 3,
              min: 1,
              max: 3,
              avg: 2,
            }),
          ],
        }),
      ]);
      await telemetry().writeBatches([
        batch('d1', 2, { windows: [windowRow({ startMs: tt0, endMs: tt0 + minute, last: 41 })] }),
      ]);
      assert.deepEqual(await telemetry().latest(['d1', 'd2']), [
        { deviceId: 'd1', metric: 'battery_pct', kind: 'health', atMs: tt0 + HOUR_MS + minute, value: 44 },
        { deviceId: 'd1', metric: 'pump.flow', kind: 'app', atMs: tt0 + minute, value: 3 },
      ]);
      assert.deepEqual(
        (await telemetry().latest(['d1'], ['pump.flow'])).map((v) => v.metric),
        ['pump.flow'],
      );
      assert.deepEqual(await telemetry().appMetricNames(['d2', 'd1']), new Map([['d1', ['pump.flow']]]));
    });

    it('stores events and lists them newest first, filtered by type and severity', async () => {
      await telemetry().writeBatches([
        batch('d1', 1, {
          windows: [],
          events: [
            { type: 'boot', atMs: tt0, severity: 'info', code: 'power_on' },
            { type: 'error', atMs: tt0 + 1000, severity: 'error', code: 'E_SENSOR', message: 'timeout' },
            { type: 'error', atMs: tt0 + 2000, severity: 'warning', code: 'E_LOW' },
          ],
        }),
        batch('d2', 1, {
          windows: [],
          events: [{ type: 'boot', atMs: tt0, severity: 'info', code: 'watchdog' }],
        }),
      ]);
      const all = await telemetry().listEvents({ deviceId: 'd1', ...range });
      assert.deepEqual(
        all.map((e) => e.code),
        ['E_LOW', 'E_SENSOR', 'power_on'],
      );
      assert.deepEqual(all[1], {
        deviceId: 'd1',
        seq: 1,
        type: 'error',
        atMs: tt0 + 1000,
        severity: 'error',
        code: 'E_SENSOR',
        message: 'timeout',
      });
      const errors = await telemetry().listEvents({
        deviceId: 'd1',
        types: ['error'],
        severities: ['error', 'critical'],
        ...range,
      });
      assert.deepEqual(
        errors.map((e) => e.code),
        ['E_SENSOR'],
      );
      const limited = await telemetry().listEvents({ deviceId: 'd1', ...range, limit: 1 });
      assert.deepEqual(
        limited.map((e) => e.code),
        ['E_LOW'],
      );
      const windowed = await telemetry().listEvents({
        deviceId: 'd1',
        fromMs: tt0 + 500,
        toMs: tt0 + 2000,
        limit: 10,
      });
      assert.deepEqual(
        windowed.map((e) => e.code),
        ['E_SENSOR'],
      );
    });

    it('records a batch that only reports drops', async () => {
      const outcome = await telemetry().writeBatches([
        batch('d1', 7, { windows: [], accepted: 0, dropped: { batches: 3, fromSeq: 2 } }),
      ]);
      assert.deepEqual(outcome, ['stored']);
      assert.deepEqual(await telemetry().writeBatches([batch('d1', 7, { windows: [] })]), ['duplicate']);
    });

    it('summarizes devices over raw windows, by chunks of a long id list', async () => {
      const w = (startMs: number, avg: number, last: number, count = 2) =>
        windowRow({ metric: 'errors', startMs, endMs: startMs + minute, min: 0, max: 10, avg, last, count });
      await telemetry().writeBatches([
        batch('d1', 1, { windows: [w(tt0 + 2 * minute, 1, 2), w(tt0, 3, 4), w(tt0 + DAY_MS, 9, 9)] }),
        batch('d2', 1, { windows: [w(tt0, 0.5, 1, 4), windowRow({ startMs: tt0 })] }),
      ]);
      const ids = [...Array.from({ length: 700 }, (_, i) => `x${i}`), 'd2', 'd1'];
      const summaries = await telemetry().summarizeDevices(ids, ['errors', 'crashes'], tt0, tt0 + DAY_MS);
      assert.deepEqual([...summaries.keys()].sort(), ['d1', 'd2']);
      assert.deepEqual(summaries.get('d1')?.get('errors'), {
        sum: 8,
        count: 4,
        coveredMs: 2 * minute,
        min: 0,
        max: 10,
        firstAtMs: tt0 + minute,
        first: 4,
        lastAtMs: tt0 + 3 * minute,
        last: 2,
      });
      assert.equal(summaries.get('d2')?.get('errors')?.sum, 2);
      assert.equal(summaries.get('d2')?.has('battery_pct'), false, 'only the metrics asked for');
      assert.equal((await telemetry().summarizeDevices(['d1'], [], tt0, tt0 + DAY_MS)).size, 0);
      // Each device over its own range: d1 only from its second window on, d2 over nothing.
      const ranged = await telemetry().summarizeRanges(
        [
          { deviceId: 'd1', fromMs: tt0 + minute, toMs: tt0 + DAY_MS },
          { deviceId: 'd2', fromMs: tt0 + minute, toMs: tt0 + 2 * minute },
        ],
        ['errors'],
      );
      assert.deepEqual([...ranged.keys()], ['d1']);
      assert.equal(ranged.get('d1')?.get('errors')?.sum, 2);
      assert.equal(ranged.get('d1')?.get('errors')?.coveredMs, minute);
    });
  });
}
