/**
 * The TelemetryRetentionStore contract, run against SQLite and PostgreSQL: expired days per source,
 * reading a day in pages, the archive catalog, and deleting raw rows, rollups and dedup rows.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Stores } from '../../src/store/open-store.ts';
import type { ArchiveEntry, RawWindowRecord } from '../../src/store/telemetry-retention-types.ts';
import type { StoredEvent } from '../../src/store/telemetry-types.ts';
import { DAY_MS, HOUR_MS } from '../../src/telemetry/rollups.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';
import { batch, tt0, windowRow } from './telemetry-store.contract.ts';

const day1 = tt0 + DAY_MS;
const day2 = tt0 + 2 * DAY_MS;

function entry(overrides: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return {
    table: 'windows',
    kind: 'health',
    dayStartMs: tt0,
    path: 'windows/kind=health/day=2025-01-01/data.parquet',
    rows: 7,
    bytes: 1234,
    sha256: 'ab'.repeat(32),
    createdAtMs: day2,
    ...overrides,
  };
}

export function telemetryRetentionStoreContract(makeStores: StoresFactory): void {
  describe('TelemetryRetentionStore contract', () => {
    let stores: Stores;
    const retention = () => stores.telemetryRetention;
    const options = { dropPartition: false, chunkRows: 2 };

    beforeEach(async () => {
      stores = await makeStores();
      await stores.devices.createDevice({ id: 'd1', serial: 'S1', hardwareModel: 'm1' }, tt0);
      // Day 0: 3 health windows of d1, 2 of d2, 1 app window; day 1: 1 health; day 2: 1 app.
      await stores.telemetry.writeBatches([
        batch('d1', 1, {
          receivedAtMs: tt0 + HOUR_MS,
          windows: [0, 1, 2].map((i) =>
            windowRow({ startMs: tt0 + i * HOUR_MS, endMs: tt0 + i * HOUR_MS + 1000, last: i }),
          ),
          events: [
            { type: 'boot', atMs: tt0 + 5, severity: 'info', code: 'power_on' },
            { type: 'error', atMs: tt0 + 5, severity: 'error', code: 'E1', message: 'm' },
            { type: 'update', atMs: day1, severity: 'info', code: 'installed' },
          ],
        }),
        batch('d2', 1, {
          receivedAtMs: day1 + HOUR_MS,
          windows: [
            windowRow({ startMs: tt0, metric: 'signal_dbm', min: -80, max: -70, avg: -75, last: -71 }),
            windowRow({
              startMs: tt0 + HOUR_MS,
              metric: 'signal_dbm',
              min: -80,
              max: -70,
              avg: -75,
              last: -72,
            }),
            windowRow({ kind: 'app', metric: 'pump.flow', startMs: tt0 + 2 * HOUR_MS }),
            windowRow({ startMs: day1 }),
            windowRow({ kind: 'app', metric: 'pump.flow', startMs: day2 }),
          ],
        }),
      ]);
    });
    afterEach(async () => {
      await stores.close();
    });

    it('lists the days of each source with rows starting before a time', async () => {
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'health' }, day2 + DAY_MS), [
        tt0,
        day1,
      ]);
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'app' }, day2 + DAY_MS), [
        tt0,
        day2,
      ]);
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'app' }, day2), [tt0]);
      assert.deepEqual(await retention().rawDays({ table: 'events' }, day1), [tt0]);
      assert.deepEqual(await retention().rawDays({ table: 'events' }, tt0), []);
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'health' }, day2 + DAY_MS, day1), [
        day1,
      ]);
      assert.deepEqual(
        await retention().rawDays({ table: 'windows', kind: 'app' }, day2 + DAY_MS, tt0 + 3 * HOUR_MS),
        [day2],
      );
    });

    it('reads a day of one source in pages, every row once, oldest first', async () => {
      const pages: RawWindowRecord[][] = [];
      await retention().readWindowDay('health', tt0, 2, (rows) => {
        pages.push(rows);
        return Promise.resolve();
      });
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 2, 1],
      );
      const rows = pages.flat();
      assert.deepEqual(
        rows.map((r) => r.startMs),
        [tt0, tt0, tt0 + HOUR_MS, tt0 + HOUR_MS, tt0 + 2 * HOUR_MS],
      );
      assert.deepEqual(
        rows.filter((r) => r.deviceId === 'd2').map((r) => [r.metric, r.last]),
        [
          ['signal_dbm', -71],
          ['signal_dbm', -72],
        ],
      );
      assert.deepEqual(
        rows.find((r) => r.deviceId === 'd1' && r.startMs === tt0),
        {
          deviceId: 'd1',
          metric: 'battery_pct',
          startMs: tt0,
          endMs: tt0 + 1000,
          min: 40,
          max: 60,
          avg: 50,
          count: 5,
          last: 0,
        },
      );
      const events: StoredEvent[] = [];
      await retention().readEventDay(tt0, 1, (page) => {
        events.push(...page);
        return Promise.resolve();
      });
      assert.equal(events.length, 2);
      assert.deepEqual(events.map((e) => e.code).sort(), ['E1', 'power_on']);
      assert.deepEqual(
        events.find((e) => e.code === 'E1'),
        { deviceId: 'd1', seq: 1, type: 'error', atMs: tt0 + 5, severity: 'error', code: 'E1', message: 'm' },
      );
    });

    it('keeps one catalog entry per table, kind and day; recording again replaces it', async () => {
      await retention().recordArchive(entry());
      await retention().recordArchive(entry());
      await retention().recordArchive(
        entry({ kind: 'app', path: 'windows/kind=app/day=2025-01-01/data.parquet' }),
      );
      await retention().recordArchive(
        entry({ table: 'events', kind: null, dayStartMs: day1, path: 'events/day=2025-01-02/data.parquet' }),
      );
      await retention().recordArchive(entry({ rows: 8, sha256: 'cd'.repeat(32) }));
      const all = await retention().listArchives();
      assert.deepEqual(
        all.map((e) => [e.table, e.kind, e.dayStartMs, e.rows]),
        [
          ['windows', 'app', tt0, 7],
          ['windows', 'health', tt0, 8],
          ['events', null, day1, 7],
        ],
      );
      assert.deepEqual(all[1], entry({ rows: 8, sha256: 'cd'.repeat(32) }));
      assert.equal((await retention().listArchives({ table: 'events' })).length, 1);
      assert.equal((await retention().listArchives({ table: 'windows', kind: 'app' })).length, 1);
      assert.equal((await retention().listArchives({ fromMs: day1 })).length, 1);
      assert.equal((await retention().listArchives({ toMs: day1 })).length, 2);
    });

    it("deletes one source's rows of one day, in chunks, and nothing else", async () => {
      assert.deepEqual(await retention().deleteRawDay({ table: 'windows', kind: 'health' }, tt0, options), {
        rows: 5,
        droppedPartition: false,
      });
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'health' }, day2), [day1]);
      assert.deepEqual(await retention().rawDays({ table: 'windows', kind: 'app' }, day2), [tt0]);
      assert.deepEqual(await retention().deleteRawDay({ table: 'events' }, tt0, options), {
        rows: 2,
        droppedPartition: false,
      });
      assert.deepEqual(await retention().rawDays({ table: 'events' }, day2), [day1]);
      assert.deepEqual(await retention().deleteRawDay({ table: 'events' }, tt0, options), {
        rows: 0,
        droppedPartition: false,
      });
    });

    it('deletes rollups and dedup rows older than a time', async () => {
      // Hourly buckets: d1 has 3 on day 0; daily buckets exist on days 0, 1, 2.
      const hourly = await retention().deleteRollupsBefore('hour', tt0 + HOUR_MS, 2);
      assert.ok(hourly > 0);
      const left = await stores.telemetry.querySeries({
        scope: 'device',
        key: 'd1',
        metric: 'battery_pct',
        resolution: 'hour',
        fromMs: tt0 - DAY_MS,
        toMs: day2,
        limit: 100,
      });
      assert.deepEqual(
        left.map((p) => p.startMs),
        [tt0 + HOUR_MS, tt0 + 2 * HOUR_MS],
      );
      assert.ok((await retention().deleteRollupsBefore('day', day1, 2)) > 0);
      const daily = await stores.telemetry.querySeries({
        scope: 'fleet',
        key: '',
        metric: 'battery_pct',
        resolution: 'day',
        fromMs: tt0 - DAY_MS,
        toMs: day2 + DAY_MS,
        limit: 100,
      });
      assert.deepEqual(
        daily.map((p) => p.startMs),
        [day1],
      );
      assert.equal(await retention().deleteBatchesBefore(day1, 2), 1);
      assert.equal(await retention().deleteBatchesBefore(day1, 2), 0);
      // d1's seq 1 is gone: the same (device, seq) is stored again.
      assert.deepEqual(await stores.telemetry.writeBatches([batch('d1', 1), batch('d2', 1)]), [
        'stored',
        'duplicate',
      ]);
    });
  });
}
