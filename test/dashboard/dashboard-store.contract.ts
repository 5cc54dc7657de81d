/**
 * The DashboardStore contract, run on SQLite and PostgreSQL: snapshots (replace, range, even
 * thinning, retention) and devices per state of rollouts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { snapshotStep, type DashboardSnapshot } from '../../src/store/dashboard-types.ts';
import type { Stores } from '../../src/store/open-store.ts';
import { seedRollouts, t0 } from './dashboard-fixtures.ts';

const snapshot = (atMs: number, total = 10): DashboardSnapshot => ({
  atMs,
  total,
  online: 4,
  withRelease: 8,
  onCurrentRelease: 2,
  openAlerts: 3,
});

export function dashboardStoreContract(makeStores: () => Promise<Stores>): void {
  describe('DashboardStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });

    it('stores snapshots, replaces one at the same time and lists a range oldest first', async () => {
      for (let i = 9; i >= 0; i -= 1) await stores.dashboard.insertSnapshot(snapshot(t0 + i * 1000));
      await stores.dashboard.insertSnapshot(snapshot(t0 + 3000, 99));
      const all = await stores.dashboard.listSnapshots(t0, t0 + 9000, 2000);
      assert.deepEqual(
        all.map((s) => s.atMs),
        Array.from({ length: 10 }, (_, i) => t0 + i * 1000),
      );
      assert.deepEqual(all[3], snapshot(t0 + 3000, 99));
      const middle = await stores.dashboard.listSnapshots(t0 + 2000, t0 + 4000, 2000);
      assert.deepEqual(
        middle.map((s) => s.atMs),
        [t0 + 2000, t0 + 3000, t0 + 4000],
      );
    });

    it('thins a range holding more than maxPoints evenly, from the oldest', async () => {
      for (let i = 0; i < 10; i += 1) await stores.dashboard.insertSnapshot(snapshot(t0 + i * 1000));
      // step ceil(10 / 3) = 4: indexes 0, 4, 8.
      assert.deepEqual(
        (await stores.dashboard.listSnapshots(t0, t0 + 9000, 3)).map((s) => s.atMs),
        [t0, t0 + 4000, t0 + 8000],
      );
      assert.equal((await stores.dashboard.listSnapshots(t0, t0 + 9000, 5)).length, 5);
      assert.equal((await stores.dashboard.listSnapshots(t0, t0 + 9000, 10)).length, 10);
      assert.equal(snapshotStep(43_200, 2000), 22);
      assert.equal(snapshotStep(0, 2000), 1);
    });

    it('deletes snapshots older than a time', async () => {
      for (let i = 0; i < 10; i += 1) await stores.dashboard.insertSnapshot(snapshot(t0 + i * 1000));
      assert.equal(await stores.dashboard.deleteSnapshotsBefore(t0 + 5000), 5);
      assert.equal(await stores.dashboard.deleteSnapshotsBefore(t0 + 5000), 0);
      const left = await stores.dashboard.listSnapshots(0, t0 + 100_000, 2000);
      assert.deepEqual(
        left.map((s) => s.atMs),
        [5, 6, 7, 8, 9].map((i) => t0 + i * 1000),
      );
    });

    it('counts devices per state of each rollout: execution state, not-started, skipped', async () => {
      await seedRollouts(stores);
      const rows = await stores.dashboard.rolloutDeviceStates(['ro-1', 'ro-2', 'ro-unknown']);
      const sorted = rows
        .map((r) => [r.rolloutId, r.state, r.devices] as const)
        .sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`));
      assert.deepEqual(sorted, [
        ['ro-1', 'downloading', 1],
        ['ro-1', 'not-started', 1],
        ['ro-1', 'offered', 2],
        ['ro-1', 'skipped', 1],
        ['ro-2', 'not-started', 1],
      ]);
      assert.deepEqual(await stores.dashboard.rolloutDeviceStates([]), []);
    });
  });
}
