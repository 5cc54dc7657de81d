/**
 * The DeviceStore contract, part two: connection state, last-seen and state reports, where
 * events can arrive late or out of order. Registered by deviceStoreContract.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/infra/errors.ts';
import type { DeviceStore, ReportedState } from '../../src/store/types.ts';

export const t0 = Date.UTC(2025, 0, 1);
export const iso = (ms: number): string => new Date(ms).toISOString();

const report = (seq: number, extra: Partial<ReportedState> = {}): ReportedState => ({
  seq,
  serial: 'SN',
  firmwareVersion: `fw-${seq}`,
  hardwareModel: 'm1',
  hardwareRevision: 'r1',
  ...extra,
});

/** `store()` returns the fresh store of the running test. */
export function presenceContract(store: () => DeviceStore): void {
  describe('recordConnected', () => {
    it('creates a new device online, with the certificate serial', async () => {
      const device = await store().recordConnected('d1', 'SN1', t0 + 5);
      assert.equal(device.serial, 'SN1');
      assert.equal(device.connectionState, 'online');
      assert.equal(device.createdAt, iso(t0 + 5));
      assert.equal(device.connectionChangedAt, iso(t0 + 5));
      assert.equal(device.lastSeenAt, iso(t0 + 5));
      assert.deepEqual(device.tags, {});
      assert.deepEqual(await store().getDevice('d1'), device);
    });

    it('marks a known device online without moving last-seen backwards', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1', owner: 'ops' }, t0);
      await store().recordSeen([{ deviceId: 'd1', lastSeenAt: t0 + 50 }]);
      const device = await store().recordConnected('d1', 'SN1', t0 + 10);
      assert.equal(device.connectionState, 'online');
      assert.equal(device.connectionChangedAt, iso(t0 + 10));
      assert.equal(device.lastSeenAt, iso(t0 + 50));
      assert.equal(device.owner, 'ops');
      assert.equal(device.createdAt, iso(t0));
    });

    it('refuses a new device whose serial belongs to another device', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1' }, t0);
      await assert.rejects(store().recordConnected('d2', 'SN1', t0), ConflictError);
      assert.equal(await store().getDevice('d2'), undefined);
      assert.equal((await store().getDevice('d1'))?.connectionState, 'offline');
    });

    it('keeps the stored serial of a known device', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1' }, t0);
      await store().createDevice({ id: 'd2', serial: 'SN2' }, t0);
      const device = await store().recordConnected('d1', 'SN2', t0 + 1);
      assert.equal(device.serial, 'SN1');
      assert.equal(device.connectionState, 'online');
    });
  });

  describe('recordDisconnected', () => {
    it('marks the device offline at the given time', async () => {
      await store().recordConnected('d1', 'SN1', t0);
      await store().recordDisconnected('d1', t0 + 10);
      const device = await store().getDevice('d1');
      assert.equal(device?.connectionState, 'offline');
      assert.equal(device?.connectionChangedAt, iso(t0 + 10));
    });

    it('ignores a disconnect older than the latest connect', async () => {
      await store().recordConnected('d1', 'SN1', t0 + 100);
      await store().recordDisconnected('d1', t0 + 99);
      const device = await store().getDevice('d1');
      assert.equal(device?.connectionState, 'online');
      assert.equal(device?.connectionChangedAt, iso(t0 + 100));
      await store().recordDisconnected('d1', t0 + 100);
      assert.equal((await store().getDevice('d1'))?.connectionState, 'offline');
    });

    it('does nothing for an unknown device', async () => {
      await store().recordDisconnected('nope', t0);
      assert.equal(await store().getDevice('nope'), undefined);
    });
  });

  describe('recordSeen', () => {
    it('keeps the latest time per device and ignores unknown ids', async () => {
      await store().createDevice({ id: 'a', serial: 'SA' }, t0);
      await store().createDevice({ id: 'b', serial: 'SB' }, t0);
      await store().recordSeen([]);
      await store().recordSeen([
        { deviceId: 'a', lastSeenAt: t0 + 30 },
        { deviceId: 'a', lastSeenAt: t0 + 20 },
        { deviceId: 'nope', lastSeenAt: t0 + 30 },
        { deviceId: 'b', lastSeenAt: t0 + 10 },
      ]);
      await store().recordSeen([{ deviceId: 'b', lastSeenAt: t0 + 5 }]);
      assert.equal((await store().getDevice('a'))?.lastSeenAt, iso(t0 + 30));
      assert.equal((await store().getDevice('b'))?.lastSeenAt, iso(t0 + 10));
      assert.equal(await store().getDevice('nope'), undefined);
    });
  });

  describe('updateOperatorTags', () => {
    it('overlays operator tags on reported ones; a report replaces only its own', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1', tags: { site: 'berlin', ring: 'stable' } }, t0);
      await store().createDevice({ id: 'd2', serial: 'SN2' }, t0);
      const set = { set: { ring: 'beta', group: 'pilot' }, remove: [] };
      assert.equal(await store().updateOperatorTags(['d1', 'd2', 'nope'], set, t0 + 5), 2);
      assert.equal(await store().updateOperatorTags(['d1', 'd2'], set, t0 + 6), 0, 'nothing new: no change');
      assert.deepEqual((await store().getDevice('d1'))?.tags, {
        site: 'berlin',
        ring: 'beta',
        group: 'pilot',
      });
      assert.deepEqual((await store().getDevice('d2'))?.tags, { ring: 'beta', group: 'pilot' });
      // The device reports a new set: its own keys are replaced, the operator's stay on top.
      await store().applyReportedState('d1', report(1, { tags: { site: 'paris', ring: 'alpha' } }), t0 + 7);
      assert.deepEqual((await store().getDevice('d1'))?.tags, {
        site: 'paris',
        ring: 'beta',
        group: 'pilot',
      });
      // Removing an operator tag uncovers the reported value of that key.
      assert.equal(await store().updateOperatorTags(['d1'], { set: {}, remove: ['ring', 'x'] }, t0 + 8), 1);
      assert.deepEqual((await store().getDevice('d1'))?.tags, {
        site: 'paris',
        ring: 'alpha',
        group: 'pilot',
      });
      assert.equal(await store().updateOperatorTags(['d1'], { set: {}, remove: ['ring'] }, t0 + 9), 0);
      assert.equal(await store().updateOperatorTags([], set, t0 + 9), 0);
    });

    it('moves attributes_changed_at only when the visible tags change', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1', tags: { ring: 'beta' } }, t0);
      await store().createDevice({ id: 'd2', serial: 'SN2' }, t0);
      // d1 already shows ring=beta (reported), so only d2's visible tags change.
      await store().updateOperatorTags(['d1', 'd2'], { set: { ring: 'beta' }, remove: [] }, t0 + 50);
      const changed = await store().listDevicesMatching({ changedSinceMs: t0 + 1 }, { limit: 10 });
      assert.deepEqual(
        changed.items.map((d) => d.id),
        ['d2'],
      );
      const tagged = await store().listDevicesMatching({ tags: { ring: 'beta' } }, { limit: 10 });
      assert.equal(tagged.items.length, 2);
    });
  });

  describe('applyReportedState', () => {
    it('throws NotFoundError for an unknown device', async () => {
      await assert.rejects(store().applyReportedState('nope', report(1), t0), NotFoundError);
    });

    it('applies a report, keeping the stored serial', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1', region: 'eu', tags: { a: '1' } }, t0);
      assert.equal(await store().applyReportedState('d1', report(0, { serial: 'OTHER' }), t0 + 7), true);
      const device = await store().getDevice('d1');
      assert.equal(device?.serial, 'SN1');
      assert.equal(device?.firmwareVersion, 'fw-0');
      assert.equal(device?.hardwareModel, 'm1');
      assert.equal(device?.hardwareRevision, 'r1');
      assert.equal(device?.region, 'eu', 'region kept when not reported');
      assert.deepEqual(device?.tags, { a: '1' }, 'tags kept when not reported');
      assert.equal(device?.lastSeenAt, iso(t0 + 7));
    });

    it('replaces region and the whole tag set when reported', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1', region: 'eu', tags: { a: '1', b: '2' } }, t0);
      await store().applyReportedState('d1', report(1, { region: 'us', tags: { c: '3' } }), t0);
      const device = await store().getDevice('d1');
      assert.equal(device?.region, 'us');
      assert.deepEqual(device?.tags, { c: '3' });
    });

    it('ignores a report whose seq is not above the stored one', async () => {
      await store().createDevice({ id: 'd1', serial: 'SN1' }, t0);
      assert.equal(await store().applyReportedState('d1', report(5), t0 + 10), true);
      const before = await store().getDevice('d1');
      assert.equal(await store().applyReportedState('d1', report(5, { region: 'x' }), t0 + 20), false);
      assert.equal(await store().applyReportedState('d1', report(4), t0 + 30), false);
      assert.deepEqual(await store().getDevice('d1'), before);
      assert.equal(await store().applyReportedState('d1', report(6), t0 + 5), true);
      const after = await store().getDevice('d1');
      assert.equal(after?.firmwareVersion, 'fw-6');
      assert.equal(after?.lastSeenAt, iso(t0 + 10), 'last-seen never moves backwards');
    });
  });

  describe('markAllOffline', () => {
    it('marks every online device offline and counts them', async () => {
      await store().recordConnected('a', 'SA', t0);
      await store().recordConnected('b', 'SB', t0);
      await store().recordConnected('c', 'SC', t0);
      await store().recordDisconnected('c', t0 + 1);
      assert.equal(await store().markAllOffline(t0 + 100), 2);
      assert.equal((await store().getDevice('a'))?.connectionChangedAt, iso(t0 + 100));
      assert.equal((await store().getDevice('c'))?.connectionChangedAt, iso(t0 + 1));
      assert.deepEqual(await store().fleetSummary(), { total: 3, online: 0 });
      assert.equal(await store().markAllOffline(t0 + 200), 0);
    });
  });
}
