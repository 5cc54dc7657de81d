/**
 * The DeviceStore contract, part three: `listDevicesMatching`, the SQL form of a rollout's device
 * selector. The pure `matchesSelector` is the reference: on a generated fleet both must pick the
 * same devices. Registered by deviceStoreContract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesSelector, type DeviceSelector } from '../../src/ota/rollouts/device-selector.ts';
import type { Device } from '../../src/contracts/device.ts';
import { parseFleetQuery } from '../../src/fleet-query/index.ts';
import type { DeviceSelection, DeviceStore, NewDevice } from '../../src/store/types.ts';
import { t0 } from './device-store-presence.contract.ts';

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(next: () => number, values: readonly T[]): T =>
  values[Math.floor(next() * values.length)] as T;
const maybe = <T>(next: () => number, values: readonly T[]): T | null =>
  next() < 0.15 ? null : pick(next, values);

const models = ['m1', 'm2', 'm3'];
const revisions = ['a', 'b'];
const firmware = ['1.0.0', '1.1.0', '2.0.0'];
const regions = ['eu', 'us', 'ap'];
const owners = ['acme', 'globex'];

function generatedFleet(count: number, seed: number): NewDevice[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const tags: Record<string, string> = {};
    if (next() < 0.5) tags.ring = pick(next, ['beta', 'stable']);
    if (next() < 0.3) tags['site.floor'] = pick(next, ['1', '2']);
    return {
      id: `g${String(i).padStart(4, '0')}`,
      serial: `SN-g${i}`,
      hardwareModel: maybe(next, models),
      hardwareRevision: maybe(next, revisions),
      firmwareVersion: maybe(next, firmware),
      region: maybe(next, regions),
      owner: maybe(next, owners),
      tags,
    };
  });
}

function generatedSelector(next: () => number): DeviceSelector {
  const some = (values: readonly string[]) => values.filter(() => next() < 0.5).slice(0, 2);
  const selector: DeviceSelector = {};
  const fields = [
    ['models', models],
    ['revisions', revisions],
    ['firmwareVersions', firmware],
    ['regions', regions],
  ] as const;
  for (const [field, values] of fields) {
    const chosen = some(values);
    if (next() < 0.4 && chosen.length > 0) selector[field] = chosen;
  }
  if (next() < 0.3) selector.owner = pick(next, owners);
  if (next() < 0.3) selector.tags = { ring: pick(next, ['beta', 'stable']) };
  if (next() < 0.15) selector.tags = { ...selector.tags, 'site.floor': '2' };
  if (next() < 0.2)
    selector.deviceIds = Array.from(
      { length: 40 },
      () => `g${String(Math.floor(next() * 300)).padStart(4, '0')}`,
    );
  return selector;
}

/** Every page of the selection, `limit` devices at a time. */
async function allMatching(store: DeviceStore, selection: DeviceSelection, limit = 1000): Promise<Device[]> {
  const devices: Device[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listDevicesMatching(selection, { limit, ...(cursor ? { cursor } : {}) });
    devices.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return devices;
}

const ids = (devices: readonly Device[]) => devices.map((d) => d.id);

/** `store()` returns the fresh store of the running test. */
export function selectionContract(store: () => DeviceStore): void {
  describe('listDevicesMatching', () => {
    it('picks exactly the devices matchesSelector picks, on a generated fleet, in id order', async () => {
      const fleet = generatedFleet(300, 7);
      for (const device of fleet) await store().createDevice(device, t0);
      const everyone = await allMatching(store(), {});
      assert.equal(everyone.length, 300);
      const next = random(11);
      let partial = 0;
      for (let round = 0; round < 60; round++) {
        const selector = generatedSelector(next);
        const expected = ids(everyone.filter((d) => matchesSelector(selector, d)));
        const actual = ids(await allMatching(store(), selector, 7));
        assert.deepEqual(actual, expected, JSON.stringify(selector));
        if (expected.length > 0 && expected.length < 300) partial += 1;
      }
      assert.ok(partial > 30, `most generated selectors pick some devices, not all (${partial})`);
    });

    it('restricts to the release model and leaves out devices already on the version', async () => {
      await store().createDevice({ id: 'a', serial: 'A', hardwareModel: 'm1', firmwareVersion: '1.0.0' }, t0);
      await store().createDevice({ id: 'b', serial: 'B', hardwareModel: 'm1', firmwareVersion: '2.0.0' }, t0);
      await store().createDevice({ id: 'c', serial: 'C', hardwareModel: 'm1' }, t0);
      await store().createDevice({ id: 'd', serial: 'D', hardwareModel: 'm2', firmwareVersion: '1.0.0' }, t0);
      const selection = { hardwareModel: 'm1', notFirmwareVersion: '2.0.0' };
      assert.deepEqual(ids(await allMatching(store(), selection)), ['a', 'c']);
      assert.deepEqual(ids(await allMatching(store(), { ...selection, models: ['m2'] })), []);
    });

    it('takes lists longer than one batch, and matches nothing for a tag key no device can carry', async () => {
      for (let i = 0; i < 30; i++)
        await store().createDevice({ id: `x${i}`, serial: `X${i}`, tags: { k: 'v' } }, t0);
      const wanted = [...Array.from({ length: 1200 }, (_, i) => `nope${i}`), 'x3', 'x17'];
      assert.deepEqual(ids(await allMatching(store(), { deviceIds: wanted })), ['x17', 'x3']);
      assert.deepEqual(ids(await allMatching(store(), { tags: { 'Bad Key': 'v' } })), []);
      assert.equal((await allMatching(store(), { tags: { k: 'v' } })).length, 30);
    });

    it('selects devices created or changed since a time: only selectable attributes count', async () => {
      const base = { hardwareModel: 'm1', hardwareRevision: 'a', firmwareVersion: '1.0.0' };
      await store().createDevice({ id: 'old', serial: 'O', ...base }, t0);
      await store().createDevice({ id: 'same', serial: 'S', ...base, region: 'eu' }, t0);
      await store().createDevice({ id: 'moved', serial: 'M', ...base }, t0);
      const reported = { serial: 'x', hardwareModel: 'm1', hardwareRevision: 'a', firmwareVersion: '1.0.0' };
      // Same attributes again (a reconnect): not a change. Region omitted keeps the stored one.
      await store().applyReportedState('same', { ...reported, seq: 1 }, t0 + 10);
      await store().applyReportedState('moved', { ...reported, seq: 1, firmwareVersion: '1.1.0' }, t0 + 10);
      await store().recordSeen([{ deviceId: 'old', lastSeenAt: t0 + 10 }]);
      await store().recordConnected('old', 'O', t0 + 10);
      await store().recordConnected('new', 'N', t0 + 20);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 + 1 })), ['moved', 'new']);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 + 10 })), ['moved', 'new']);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 + 11 })), ['new']);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 })).length, 4);
      await store().applyReportedState('same', { ...reported, seq: 2, region: 'us' }, t0 + 30);
      await store().applyReportedState('old', { ...reported, seq: 1, tags: { ring: 'beta' } }, t0 + 30);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 + 30 })), ['old', 'same']);
      assert.deepEqual(ids(await allMatching(store(), { changedSinceMs: t0 + 30, tags: { ring: 'beta' } })), [
        'old',
      ]);
    });

    it("narrows a selection by a fleet query (a rollout selector's where)", async () => {
      await store().createDevice(
        { id: 'a', serial: 'A', hardwareModel: 'm1', region: 'eu', tags: { ring: 'beta' } },
        t0,
      );
      await store().createDevice(
        { id: 'b', serial: 'B', hardwareModel: 'm1', region: 'us', tags: { ring: 'beta' } },
        t0,
      );
      await store().createDevice({ id: 'c', serial: 'C', hardwareModel: 'm1', region: 'eu' }, t0);
      const where = { query: parseFleetQuery('region = "eu" or tag.ring = "beta"'), nowMs: t0 };
      assert.deepEqual(ids(await allMatching(store(), { hardwareModel: 'm1', where })), ['a', 'b', 'c']);
      assert.deepEqual(ids(await allMatching(store(), { regions: ['us'], where })), ['b']);
      const young = { query: parseFleetQuery('age < 1h and region != "us"'), nowMs: t0 + 30 * 60_000 };
      assert.deepEqual(ids(await allMatching(store(), { where: young })), ['a', 'c']);
      const older = { query: young.query, nowMs: t0 + 2 * 3600_000 };
      assert.deepEqual(ids(await allMatching(store(), { where: older })), []);
    });
  });
}
