/**
 * The DeviceStore contract, sorted lists: `listDevices` with `sort` pages through every device in
 * (sort key, id) order, devices without the value last in both directions, text in byte order, with
 * cursors valid across pages. A plain JavaScript sort is the reference. Registered by deviceStoreContract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Device } from '../../src/contracts/device.ts';
import { parseFleetQuery } from '../../src/fleet-query/index.ts';
import { ValidationError } from '../../src/infra/errors.ts';
import { deviceSorts, type DeviceSort } from '../../src/store/device-sort.ts';
import type { DeviceFilter, DeviceStore } from '../../src/store/types.ts';
import { t0 } from './device-store-presence.contract.ts';

// Upper case before lower case in byte order (a locale collation would mix them).
const models = ['Zeta', 'alpha', 'beta', null];
const firmware = ['1.10.0', '1.9.0', 'B-2', 'a-1', null];

async function seed(store: DeviceStore): Promise<void> {
  for (let i = 0; i < 37; i += 1) {
    const id = `dev-${String((i * 7) % 37).padStart(2, '0')}`;
    await store.createDevice(
      {
        id,
        serial: `sn-${id}`,
        hardwareModel: models[i % models.length] ?? null,
        firmwareVersion: firmware[i % firmware.length] ?? null,
      },
      t0,
    );
    // Last seen: a third never, the others at a few shared times (ties broken by id).
    if (i % 3 === 1) await store.recordConnected(id, `sn-${id}`, t0 + (i % 4) * 1000);
    if (i % 3 === 2) await store.recordSeen([{ deviceId: id, lastSeenAt: t0 + (i % 5) * 1000 }]);
  }
}

type Value = string | number | null;

function keyOf(device: Device, sort: DeviceSort): Value {
  switch (sort.replace(/^-/, '')) {
    case 'lastSeen':
      return device.lastSeenAt === null ? null : Date.parse(device.lastSeenAt);
    case 'firmware':
      return device.firmwareVersion;
    case 'model':
      return device.hardwareModel;
    case 'state':
      return device.connectionState;
    default:
      return device.id;
  }
}

const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

function reference(devices: Device[], sort: DeviceSort): string[] {
  const sign = sort.startsWith('-') ? -1 : 1;
  return [...devices]
    .sort((a, b) => {
      const ka = keyOf(a, sort);
      const kb = keyOf(b, sort);
      if (ka === null || kb === null) {
        if (ka !== kb) return ka === null ? 1 : -1;
      } else if (ka !== kb) return sign * compare(ka, kb);
      return sign * compare(a.id, b.id);
    })
    .map((d) => d.id);
}

async function walk(store: DeviceStore, filter: DeviceFilter, sort: DeviceSort, limit: number) {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.listDevices(filter, { limit, sort, ...(cursor ? { cursor } : {}) });
    assert.ok(page.items.length <= limit);
    ids.push(...page.items.map((d) => d.id));
    cursor = page.nextCursor;
    pages += 1;
    assert.ok(pages < 100, 'paging does not end');
  } while (cursor !== undefined);
  return ids;
}

export function sortContract(store: () => DeviceStore): void {
  describe('listDevices sorted', () => {
    it('pages every sort in (key, id) order, values missing last, across pages of any size', async () => {
      await seed(store());
      const all = (await store().listDevices({}, { limit: 1000 })).items;
      assert.equal(all.length, 37);
      for (const sort of deviceSorts) {
        const expected = reference(all, sort);
        for (const limit of [1, 5, 36, 37, 1000]) {
          assert.deepEqual(await walk(store(), {}, sort, limit), expected, `${sort} limit ${limit}`);
        }
      }
    });

    it('applies filters and fleet queries to both the valued and the unvalued devices', async () => {
      await seed(store());
      const ids = Array.from({ length: 15 }, (_, i) => `"dev-${String(i * 2).padStart(2, '0')}"`);
      const where = { query: parseFleetQuery(`id in (${ids.join(', ')})`), nowMs: t0 };
      const all = (await store().listDevices({ where }, { limit: 1000 })).items;
      assert.ok(all.length > 0 && all.length < 37);
      for (const sort of ['lastSeen', '-firmware', 'model', '-state'] as const) {
        assert.deepEqual(await walk(store(), { where }, sort, 4), reference(all, sort), sort);
      }
      const offline = (await store().listDevices({ connectionState: 'offline' }, { limit: 1000 })).items;
      assert.deepEqual(
        await walk(store(), { connectionState: 'offline' }, '-lastSeen', 3),
        reference(offline, '-lastSeen'),
      );
    });

    it('keeps the id order and its cursors without a sort, and with sort=id', async () => {
      await seed(store());
      const plain = await store().listDevices({}, { limit: 10 });
      const byId = await store().listDevices({}, { limit: 10, sort: 'id' });
      assert.deepEqual(byId, plain);
      assert.ok(plain.nextCursor !== undefined);
      const next = await store().listDevices({}, { limit: 10, cursor: plain.nextCursor });
      assert.equal(next.items[0]?.id, 'dev-10');
    });

    it('refuses a cursor of another sort order or a forged one', async () => {
      await seed(store());
      const page = await store().listDevices({}, { limit: 2, sort: 'model' });
      assert.ok(page.nextCursor !== undefined);
      await assert.rejects(
        store().listDevices({}, { limit: 2, sort: '-model', cursor: page.nextCursor }),
        ValidationError,
      );
      const forged = Buffer.from(JSON.stringify(['lastSeen', 'x', 'dev-01'])).toString('base64url');
      await assert.rejects(
        store().listDevices({}, { limit: 2, sort: 'lastSeen', cursor: forged }),
        ValidationError,
      );
      await assert.rejects(
        store().listDevices({}, { limit: 2, sort: 'firmware', cursor: 'not json' }),
        ValidationError,
      );
    });
  });
}
