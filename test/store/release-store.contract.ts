/**
 * The ReleaseStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores; the suite closes them after
 * each test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { NewRelease, NewReleaseDelta, ReleaseStore } from '../../src/store/release-types.ts';
import { iso, t0 } from './provisioning-fixtures.ts';
import type { StoresFactory } from './provisioning-store.contract.ts';

const sha = 'ab'.repeat(32);

export function newRelease(overrides: Partial<NewRelease> = {}): NewRelease {
  return {
    version: '2.4.1',
    hardwareModel: 'sensor-x',
    hardwareRevisions: ['rev-a', 'rev-b'],
    sha256: sha,
    size: 1_048_576,
    security: false,
    minVersion: null,
    mandatory: false,
    notes: 'Fixes the radio wake-up.',
    createdBy: 'release-bot',
    ...overrides,
  };
}

const versionsOf = async (store: ReleaseStore, filter: Parameters<ReleaseStore['listReleases']>[0]) =>
  (await store.listReleases(filter)).map((release) => release.id);

/** Rejects with a ValidationError whose details name `field`. */
const rejectsField = (promise: Promise<unknown>, field: string) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.details?.field, field);
    return true;
  });

export function releaseStoreContract(makeStores: StoresFactory): void {
  describe('ReleaseStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });
    const releases = () => stores.releases;

    const delta = (overrides: Partial<NewReleaseDelta> = {}): NewReleaseDelta => ({
      hardwareModel: 'sensor-x',
      version: '2.4.1',
      baseVersion: '2.4.0',
      baseSha256: 'cd'.repeat(32),
      status: 'ready',
      patchSha256: 'ef'.repeat(32),
      patchSize: 5 * 2 ** 30,
      reason: null,
      ...overrides,
    });

    it('records deltas, replaces a rebuilt one and lists newest base first', async () => {
      await releases().createRelease(newRelease(), t0);
      const first = await releases().recordDelta(
        delta({ status: 'failed', patchSha256: null, patchSize: null, reason: 'boom' }),
        t0,
      );
      assert.deepEqual(first, {
        ...delta({ status: 'failed', patchSha256: null, patchSize: null, reason: 'boom' }),
        createdAt: iso(t0),
      });
      await releases().recordDelta(delta(), t0 + 1);
      await releases().recordDelta(
        delta({ baseVersion: '2.10.0', status: 'skipped', patchSha256: null, reason: 'too big' }),
        t0 + 2,
      );
      const listed = await releases().listDeltas('sensor-x', '2.4.1');
      assert.deepEqual(
        listed.map((d) => [d.baseVersion, d.status, d.patchSize]),
        [
          ['2.10.0', 'skipped', 5 * 2 ** 30],
          ['2.4.0', 'ready', 5 * 2 ** 30],
        ],
      );
      assert.deepEqual(listed[1], { ...delta(), createdAt: iso(t0 + 1) });
      assert.deepEqual(await releases().listDeltas('sensor-x', '9.9.9'), []);
    });

    it('refuses a delta for a release that does not exist', async () => {
      await assert.rejects(releases().recordDelta(delta(), t0), NotFoundError);
    });

    it('stores a release and reads it back by model and version', async () => {
      const input = newRelease({ security: true, minVersion: '2.0.0', mandatory: true });
      const created = await releases().createRelease(input, t0);
      const { createdBy, ...rest } = input;
      assert.deepEqual(created, { ...rest, id: 'sensor-x@2.4.1', createdAt: iso(t0), createdBy });
      assert.deepEqual(await releases().getRelease('sensor-x', '2.4.1'), created);
      assert.equal(await releases().getRelease('sensor-x', '2.4.2'), undefined);
      assert.equal(await releases().getRelease('sensor-y', '2.4.1'), undefined);
    });

    it('keeps sizes above 4 GiB, empty revisions and flags exactly', async () => {
      const input = newRelease({ size: 6 * 2 ** 30, hardwareRevisions: [], notes: '' });
      await releases().createRelease(input, t0);
      const stored = await releases().getRelease('sensor-x', '2.4.1');
      assert.deepEqual(
        [stored?.size, stored?.hardwareRevisions, stored?.security, stored?.mandatory, stored?.minVersion],
        [6 * 2 ** 30, [], false, false, null],
      );
    });

    it('refuses a version the model already has, whatever else differs', async () => {
      const first = await releases().createRelease(newRelease(), t0);
      await assert.rejects(
        releases().createRelease(newRelease({ sha256: 'cd'.repeat(32), notes: 'other' }), t0 + 1),
        ConflictError,
      );
      assert.deepEqual(await releases().getRelease('sensor-x', '2.4.1'), first);
      await releases().createRelease(newRelease({ hardwareModel: 'sensor-y' }), t0);
      assert.deepEqual(await versionsOf(releases(), {}), ['sensor-x@2.4.1', 'sensor-y@2.4.1']);
    });

    it('lets exactly one of two concurrent publishers of a version succeed', async () => {
      const outcomes = await Promise.allSettled([
        releases().createRelease(newRelease(), t0),
        releases().createRelease(newRelease({ notes: 'second' }), t0),
      ]);
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected');
      assert.ok(refused?.reason instanceof ConflictError);
    });

    it('refuses invalid fields with a ValidationError naming the field, writing nothing', async () => {
      const create = (overrides: Partial<NewRelease>) => releases().createRelease(newRelease(overrides), t0);
      await rejectsField(create({ version: '2.4' }), 'version');
      await rejectsField(create({ version: 'v2.4.1' }), 'version');
      await rejectsField(create({ version: '2.4.1+build.7' }), 'version');
      await rejectsField(create({ security: true, minVersion: 'latest' }), 'minVersion');
      await rejectsField(create({ sha256: 'AB'.repeat(32) }), 'sha256');
      await rejectsField(create({ sha256: 'ab'.repeat(31) }), 'sha256');
      await rejectsField(create({ sha256: 'zz'.repeat(32) }), 'sha256');
      await rejectsField(create({ size: -1 }), 'size');
      await rejectsField(create({ size: 1.5 }), 'size');
      assert.deepEqual(await releases().listReleases({}), []);
      await create({ size: 0, version: '2.5.0-rc.1', minVersion: '2.0.0-beta.1' });
    });

    it('lists newest first by semver precedence, pre-releases below their release', async () => {
      const published = ['2.9.0', '2.10.0-rc.1', '10.0.0-alpha', '2.10.0', '1.0.0', '2.10.0-beta.2'];
      // Creation time runs opposite to precedence, so a time order would fail.
      for (const [index, version] of published.entries()) {
        await releases().createRelease(newRelease({ version }), t0 - index * 1000);
      }
      await releases().createRelease(newRelease({ version: '2.10.0-rc.2' }), t0);
      assert.deepEqual(await versionsOf(releases(), { hardwareModel: 'sensor-x' }), [
        'sensor-x@10.0.0-alpha',
        'sensor-x@2.10.0',
        'sensor-x@2.10.0-rc.2',
        'sensor-x@2.10.0-rc.1',
        'sensor-x@2.10.0-beta.2',
        'sensor-x@2.9.0',
        'sensor-x@1.0.0',
      ]);
    });

    it('filters by model and by revision; no revisions means every revision', async () => {
      await releases().createRelease(newRelease({ version: '1.0.0', hardwareRevisions: ['rev-a'] }), t0);
      await releases().createRelease(newRelease({ version: '1.1.0', hardwareRevisions: [] }), t0);
      await releases().createRelease(newRelease({ version: '1.2.0', hardwareRevisions: ['rev-b'] }), t0);
      await releases().createRelease(
        newRelease({ version: '1.1.0', hardwareModel: 'gateway', hardwareRevisions: ['rev-a'] }),
        t0,
      );
      assert.deepEqual(
        await versionsOf(releases(), { hardwareModel: 'sensor-x', hardwareRevision: 'rev-a' }),
        ['sensor-x@1.1.0', 'sensor-x@1.0.0'],
      );
      assert.deepEqual(await versionsOf(releases(), { hardwareRevision: 'rev-c' }), ['sensor-x@1.1.0']);
      assert.deepEqual(await versionsOf(releases(), { hardwareModel: 'gateway' }), ['gateway@1.1.0']);
      assert.deepEqual(await versionsOf(releases(), { hardwareModel: 'unknown' }), []);
      assert.deepEqual(await versionsOf(releases(), {}), [
        'sensor-x@1.2.0',
        'gateway@1.1.0',
        'sensor-x@1.1.0',
        'sensor-x@1.0.0',
      ]);
    });
  });
}

/** After a migration 2 → 3 upgrade: the old device is intact and releases can be published. */
export async function assertUpgradedKeepsDevices(stores: Stores): Promise<void> {
  const device = await stores.devices.getDevice('d-old');
  assert.deepEqual([device?.serial, device?.tags, device?.owner], ['S-old', { site: 'ber' }, 'ops']);
  assert.equal(await stores.provisioning.isDeviceRevoked('d-old'), false);
  assert.deepEqual(await stores.releases.listReleases({}), []);
  await stores.releases.createRelease(newRelease(), t0);
  assert.equal((await stores.releases.listReleases({ hardwareModel: 'sensor-x' })).length, 1);
  assert.equal((await stores.devices.fleetSummary()).total, 1);
}
