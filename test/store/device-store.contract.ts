/**
 * The DeviceStore contract, written once and run against every implementation (sqlite, postgres).
 * `makeStore` must return a fresh, empty, migrated store; the suite closes it after each test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, UnavailableError, ValidationError } from '../../src/infra/errors.ts';
import type { DeviceStore } from '../../src/store/types.ts';
import { iso, presenceContract, t0 } from './device-store-presence.contract.ts';
import { selectionContract } from './device-store-selection.contract.ts';
import { sortContract } from './device-store-sort.contract.ts';

export type StoreFactory = () => Promise<DeviceStore>;

/** Registers the contract as its own suite, so its hooks do not touch the caller's other tests. */
export function deviceStoreContract(makeStore: StoreFactory): void {
  describe('DeviceStore contract', () => registerContract(makeStore));
}

function registerContract(makeStore: StoreFactory): void {
  let store: DeviceStore;
  beforeEach(async () => {
    store = await makeStore();
  });
  afterEach(async () => {
    await store.close();
  });

  const create = (
    id: string,
    extra: { model?: string; firmware?: string; tags?: Record<string, string> } = {},
  ) =>
    store.createDevice(
      {
        id,
        serial: `sn-${id}`,
        hardwareModel: extra.model,
        firmwareVersion: extra.firmware,
        tags: extra.tags,
      },
      t0,
    );

  describe('createDevice and getDevice', () => {
    it('fills defaults: empty tags, nulls, offline', async () => {
      const created = await store.createDevice({ id: 'd1', serial: 'S1' }, t0);
      assert.deepEqual(created, {
        id: 'd1',
        serial: 'S1',
        hardwareModel: null,
        hardwareRevision: null,
        firmwareVersion: null,
        tags: {},
        region: null,
        owner: null,
        createdAt: iso(t0),
        lastSeenAt: null,
        connectionState: 'offline',
        connectionChangedAt: null,
      });
      assert.deepEqual(await store.getDevice('d1'), created);
    });

    it('stores every given field', async () => {
      const device = {
        id: 'd1',
        serial: 'S1',
        hardwareModel: 'm1',
        hardwareRevision: 'r2',
        firmwareVersion: '1.2.3',
        tags: { site: 'berlin', 'floor.no': '3' },
        region: 'eu',
        owner: 'ops',
      };
      const created = await store.createDevice(device, t0 + 1);
      assert.deepEqual(created, { ...device, createdAt: iso(t0 + 1), ...neverConnected });
      assert.deepEqual(await store.getDevice('d1'), created);
    });

    it('rejects a duplicate id or serial with ConflictError', async () => {
      await store.createDevice({ id: 'd1', serial: 'S1' }, t0);
      await assert.rejects(store.createDevice({ id: 'd1', serial: 'S2' }, t0), ConflictError);
      await assert.rejects(store.createDevice({ id: 'd2', serial: 'S1' }, t0), ConflictError);
      assert.equal(await store.getDevice('d2'), undefined);
    });

    it('returns undefined for an unknown id', async () => {
      assert.equal(await store.getDevice('nope'), undefined);
    });
  });

  describe('listDevices', () => {
    it('pages through every device exactly once, in id order', async () => {
      const ids = Array.from({ length: 25 }, (_, i) => `dev-${String(i).padStart(2, '0')}`);
      for (const id of [...ids].reverse()) await create(id);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listDevices({}, { cursor, limit: 10 });
        seen.push(...page.items.map((d) => d.id));
        sizes.push(page.items.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      assert.deepEqual(seen, ids);
      assert.deepEqual(sizes, [10, 10, 5]);
    });

    it('gives no cursor when the page holds the last device', async () => {
      for (const id of ['a', 'b']) await create(id);
      assert.equal((await store.listDevices({}, { limit: 2 })).nextCursor, undefined);
      assert.deepEqual(await store.listDevices({}, { limit: 5 }), {
        items: [await store.getDevice('a'), await store.getDevice('b')],
      });
    });

    it('orders ids by their bytes in every implementation', async () => {
      for (const id of ['b', 'a', 'B', 'dev-10', 'dev-9']) await create(id);
      const page = await store.listDevices({}, { limit: 10 });
      assert.deepEqual(
        page.items.map((d) => d.id),
        ['B', 'a', 'b', 'dev-10', 'dev-9'],
      );
    });

    it('filters by model, firmware, connection state and tags', async () => {
      await create('a', { model: 'm1', firmware: '1.0', tags: { site: 'ber', 'rack.no': '1' } });
      await create('b', { model: 'm1', firmware: '2.0', tags: { site: 'ber', 'rack.no': '2' } });
      await create('c', { model: 'm2', firmware: '2.0', tags: { site: 'muc' } });
      await store.recordConnected('b', 'sn-b', t0);
      const ids = async (filter: Parameters<DeviceStore['listDevices']>[0]) =>
        (await store.listDevices(filter, { limit: 100 })).items.map((d) => d.id);
      assert.deepEqual(await ids({ hardwareModel: 'm1' }), ['a', 'b']);
      assert.deepEqual(await ids({ firmwareVersion: '2.0' }), ['b', 'c']);
      assert.deepEqual(await ids({ connectionState: 'online' }), ['b']);
      assert.deepEqual(await ids({ connectionState: 'offline' }), ['a', 'c']);
      assert.deepEqual(await ids({ tags: { site: 'ber' } }), ['a', 'b']);
      assert.deepEqual(await ids({ tags: { site: 'ber', 'rack.no': '2' } }), ['b']);
      assert.deepEqual(await ids({ tags: { site: 'ham' } }), []);
      assert.deepEqual(await ids({ tags: {} }), ['a', 'b', 'c']);
      assert.deepEqual(await ids({ hardwareModel: 'm1', firmwareVersion: '2.0', tags: { site: 'ber' } }), [
        'b',
      ]);
    });

    it('pages through a filtered listing', async () => {
      for (let i = 0; i < 7; i++) await create(`d${i}`, { model: i % 2 === 0 ? 'even' : 'odd' });
      const first = await store.listDevices({ hardwareModel: 'even' }, { limit: 3 });
      assert.deepEqual(
        first.items.map((d) => d.id),
        ['d0', 'd2', 'd4'],
      );
      const second = await store.listDevices(
        { hardwareModel: 'even' },
        { cursor: first.nextCursor, limit: 3 },
      );
      assert.deepEqual(
        second.items.map((d) => d.id),
        ['d6'],
      );
      assert.equal(second.nextCursor, undefined);
    });

    it('rejects a limit outside 1..1000, a malformed cursor and a bad tag key', async () => {
      for (const limit of [0, -1, 1001, 1.5]) {
        await assert.rejects(store.listDevices({}, { limit }), ValidationError, `limit ${limit}`);
      }
      assert.deepEqual(await store.listDevices({}, { limit: 1000 }), { items: [] });
      for (const cursor of ['', '!!', 'a b', 'YQ==']) {
        await assert.rejects(
          store.listDevices({}, { cursor, limit: 10 }),
          ValidationError,
          `cursor ${cursor}`,
        );
      }
      await assert.rejects(store.listDevices({ tags: { 'Bad"Key': 'x' } }, { limit: 10 }), ValidationError);
    });
  });

  describe('installedVersions', () => {
    it('counts devices per firmware version of one model, ignoring unknown versions', async () => {
      await create('a', { model: 'm1', firmware: '1.0.0' });
      await create('b', { model: 'm1', firmware: '1.0.0' });
      await create('c', { model: 'm1', firmware: '1.1.0' });
      await create('d', { model: 'm1' });
      await create('e', { model: 'm2', firmware: '1.0.0' });
      const versions = await store.installedVersions('m1');
      assert.deepEqual(
        [...versions].sort(([a], [b]) => (a < b ? -1 : 1)),
        [
          ['1.0.0', 2],
          ['1.1.0', 1],
        ],
      );
      assert.equal((await store.installedVersions('none')).size, 0);
    });
  });

  describe('fleetSummary', () => {
    it('counts all and online devices', async () => {
      assert.deepEqual(await store.fleetSummary(), { total: 0, online: 0 });
      for (const id of ['a', 'b', 'c']) await create(id);
      await store.recordConnected('a', 'sn-a', t0);
      await store.recordConnected('new', 'sn-new', t0);
      assert.deepEqual(await store.fleetSummary(), { total: 4, online: 2 });
    });
  });

  describe('close', () => {
    it('can be called more than once, after which calls fail as unavailable', async () => {
      await store.close();
      await store.close();
      await assert.rejects(store.getDevice('d1'), UnavailableError);
      await assert.rejects(store.recordSeen([]), UnavailableError);
    });
  });

  presenceContract(() => store);
  selectionContract(() => store);
  sortContract(() => store);
}

const neverConnected = { lastSeenAt: null, connectionState: 'offline', connectionChangedAt: null } as const;
