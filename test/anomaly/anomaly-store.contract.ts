/**
 * The AnomalyStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores; the suite closes them.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Stores } from '../../src/store/open-store.ts';
import { splitAtHours } from '../../src/store/anomaly-types.ts';
import type { WindowRow } from '../../src/store/telemetry-types.ts';
import { HOUR_MS } from '../../src/telemetry/rollups.ts';
import type { StoresFactory } from '../store/provisioning-store.contract.ts';

/** 2025-01-01T00:00Z. */
const t0 = Date.UTC(2025, 0, 1);
const minute = 60_000;

function win(metric: string, startMs: number, avg: number, count = 5): WindowRow {
  return {
    kind: 'health',
    metric,
    startMs,
    endMs: startMs + 5 * minute,
    min: avg,
    max: avg,
    avg,
    count,
    last: avg,
  };
}

export function anomalyStoreContract(makeStores: StoresFactory): void {
  describe('AnomalyStore contract', () => {
    let stores: Stores;
    let seq = 0;
    const write = (deviceId: string, windows: WindowRow[]) =>
      stores.telemetry.writeBatches([
        {
          deviceId,
          seq: ++seq,
          receivedAtMs: t0,
          windows,
          events: [],
          accepted: windows.length,
          rejected: 0,
        },
      ]);

    beforeEach(async () => {
      stores = await makeStores();
      const devices = [
        { id: 'a1', model: 'm1', firmware: '1.0', region: 'eu', site: 'paris' },
        { id: 'a2', model: 'm1', firmware: '1.0', region: 'eu', site: 'oslo' },
        { id: 'a3', model: 'm1', firmware: '2.0', region: 'us', site: 'nyc' },
        { id: 'a4', model: 'm2', firmware: '2.0', region: null, site: null },
      ];
      for (const d of devices)
        await stores.devices.createDevice(
          {
            id: d.id,
            serial: `S-${d.id}`,
            hardwareModel: d.model,
            firmwareVersion: d.firmware,
            region: d.region,
            tags: d.site ? { site: d.site } : {},
          },
          t0,
        );
      await stores.devices.createDevice({ id: 'nomodel', serial: 'S-nomodel' }, t0);
    });
    afterEach(() => stores.close());

    it('peerSamples: per device and metric, first and last window averages at their mid-points', async () => {
      await write('a1', [
        win('battery_pct', t0, 80),
        win('battery_pct', t0 + 5 * minute, 79),
        win('battery_pct', t0 + 10 * minute, 77),
      ]);
      await write('a1', [win('errors', t0, 2, 5)]);
      await write('a3', [win('battery_pct', t0 + 5 * minute, 50)]);
      await write('nomodel', [win('battery_pct', t0, 10)]);
      // Outside the range.
      await write('a2', [win('battery_pct', t0 + HOUR_MS, 10)]);
      const samples = await stores.anomaly.peerSamples(['battery_pct', 'errors'], t0, t0 + HOUR_MS);
      assert.deepEqual(samples, [
        {
          deviceId: 'a1',
          model: 'm1',
          firmware: '1.0',
          metric: 'battery_pct',
          sum: 1180,
          count: 15,
          coveredMs: 15 * minute,
          firstAvg: 80,
          firstAtMs: t0 + 2.5 * minute,
          lastAvg: 77,
          lastAtMs: t0 + 12.5 * minute,
        },
        {
          deviceId: 'a1',
          model: 'm1',
          firmware: '1.0',
          metric: 'errors',
          sum: 10,
          count: 5,
          coveredMs: 5 * minute,
          firstAvg: 2,
          firstAtMs: t0 + 2.5 * minute,
          lastAvg: 2,
          lastAtMs: t0 + 2.5 * minute,
        },
        {
          deviceId: 'a3',
          model: 'm1',
          firmware: '2.0',
          metric: 'battery_pct',
          sum: 250,
          count: 5,
          coveredMs: 5 * minute,
          firstAvg: 50,
          firstAtMs: t0 + 7.5 * minute,
          lastAvg: 50,
          lastAtMs: t0 + 7.5 * minute,
        },
      ]);
    });

    it('recentlyOffline: devices offline since a time, newest first, with their attributes', async () => {
      for (const id of ['a1', 'a2', 'a3', 'a4']) await stores.devices.recordConnected(id, `S-${id}`, t0);
      await stores.devices.recordDisconnected('a1', t0 + 1000);
      await stores.devices.recordDisconnected('a2', t0 + 3000);
      await stores.devices.recordDisconnected('a4', t0 + 2000);
      const offline = await stores.anomaly.recentlyOffline(t0 + 1500, 10);
      assert.deepEqual(offline, [
        {
          deviceId: 'a2',
          model: 'm1',
          firmware: '1.0',
          region: 'eu',
          tags: { site: 'oslo' },
          offlineSinceMs: t0 + 3000,
        },
        { deviceId: 'a4', model: 'm2', firmware: '2.0', region: null, tags: {}, offlineSinceMs: t0 + 2000 },
      ]);
      assert.equal((await stores.anomaly.recentlyOffline(t0, 1)).length, 1);
    });

    it('factorCounts: devices and online devices per value, devices without a value left out', async () => {
      await stores.devices.recordConnected('a1', 'S-a1', t0);
      await stores.devices.recordConnected('a3', 'S-a3', t0);
      assert.deepEqual(await stores.anomaly.factorCounts('region'), [
        { value: 'eu', total: 2, online: 1 },
        { value: 'us', total: 1, online: 1 },
      ]);
      assert.deepEqual(await stores.anomaly.factorCounts('tag:site'), [
        { value: 'nyc', total: 1, online: 1 },
        { value: 'oslo', total: 1, online: 0 },
        { value: 'paris', total: 1, online: 1 },
      ]);
      assert.deepEqual(await stores.anomaly.factorCounts('firmware'), [
        { value: '1.0', total: 2, online: 1 },
        { value: '2.0', total: 2, online: 1 },
      ]);
      assert.deepEqual(await stores.anomaly.factorCounts('model'), [
        { value: 'm1', total: 3, online: 2 },
        { value: 'm2', total: 1, online: 0 },
      ]);
    });

    it('counterSums: per model and firmware, whole hours from the rollups and the edges from raw windows', async () => {
      // Hour 0: raw at 0:50 and 0:55; hour 1 (whole, via the hourly rollup): 1:00 and 1:30; hour 2: 2:05.
      const at = (h: number, m: number) => t0 + h * HOUR_MS + m * minute;
      await write('a1', [
        win('errors', at(0, 50), 1),
        win('errors', at(0, 55), 2),
        win('errors', at(1, 0), 3),
      ]);
      await write('a2', [
        win('errors', at(1, 30), 4),
        win('errors', at(2, 5), 5),
        win('errors', at(2, 10), 100),
      ]);
      await write('a3', [win('errors', at(0, 40), 100), win('errors', at(1, 0), 1)]);
      await write('a4', [win('battery_pct', at(1, 0), 1)]);
      const sums = await stores.anomaly.counterSums('errors', at(0, 45), at(2, 10));
      assert.deepEqual(sums, [
        { model: 'm1', firmware: '1.0', sum: 5 * (1 + 2 + 3 + 4 + 5), samples: 25 },
        { model: 'm1', firmware: '2.0', sum: 5, samples: 5 },
      ]);
      assert.deepEqual(splitAtHours(at(0, 45), at(2, 10)), {
        raw: [
          [at(0, 45), at(1, 0)],
          [at(2, 0), at(2, 10)],
        ],
        hours: [at(1, 0), at(2, 0)],
      });
      // Within one hour: raw windows only.
      assert.deepEqual(await stores.anomaly.counterSums('errors', at(0, 45), at(0, 56)), [
        { model: 'm1', firmware: '1.0', sum: 15, samples: 10 },
      ]);
    });
  });
}
