/** The ProvisioningStore contract: factory batches and their expected serials. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, UnavailableError, ValidationError } from '../../src/infra/errors.ts';
import type { NewBatch } from '../../src/store/provisioning-types.ts';
import {
  assertRefused,
  dayMs,
  iso,
  newBatch,
  snapshot,
  t0,
  type CurrentStores,
} from './provisioning-fixtures.ts';

export function batchContract(stores: CurrentStores): void {
  const provisioning = () => stores().provisioning;

  describe('createBatch', () => {
    it('stores the batch and its serials, with computed counts', async () => {
      const created = await provisioning().createBatch(newBatch(), t0);
      assert.deepEqual(created, {
        id: 'b-1',
        hardwareModel: 'sensor-x',
        hardwareRevision: 'rev-b',
        claimLimit: 10,
        claimUses: 0,
        claimExpiresAt: iso(t0 + dayMs),
        claimCertificateSerial: 'C1A1',
        createdAt: iso(t0),
        createdBy: 'factory',
        expected: 3,
        provisioned: 0,
      });
      assert.deepEqual(await provisioning().getBatch('b-1'), created);
      assert.deepEqual(await provisioning().getExpectedDevice('S2'), {
        serial: 'S2',
        batchId: 'b-1',
        claimCode: 'CODE-2',
        deviceId: null,
        provisionedAt: null,
      });
    });

    it('returns undefined for an unknown batch or serial', async () => {
      assert.equal(await provisioning().getBatch('b-none'), undefined);
      assert.equal(await provisioning().getExpectedDevice('S-none'), undefined);
    });

    it('refuses known serials and colliding claim codes, naming them, and writes nothing', async () => {
      await provisioning().createBatch(newBatch(), t0);
      const keys = { batchIds: ['b-1', 'b-2'], serials: ['S3', 'S4', 'S5'], deviceIds: [] };
      const before = await snapshot(stores(), keys);
      const second = newBatch({
        id: 'b-2',
        serials: ['S4', 'S3', 'S5'],
        claimCodes: ['N-4', 'N-3', 'CODE-1'],
      });
      await assert.rejects(provisioning().createBatch(second, t0), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.deepEqual(error.details, { batchId: 'b-2', serials: ['S3'], claimCodes: ['CODE-1'] });
        return true;
      });
      assert.deepEqual(await snapshot(stores(), keys), before);
    });

    it('refuses a serial that a device already uses', async () => {
      await stores().devices.createDevice({ id: 'd-old', serial: 'S2' }, t0);
      await assertRefused(provisioning().createBatch(newBatch(), t0), ConflictError);
      assert.equal(await provisioning().getBatch('b-1'), undefined);
    });

    it('refuses an existing batch id', async () => {
      await provisioning().createBatch(newBatch(), t0);
      const again = newBatch({ serials: ['S7'], claimCodes: ['CODE-7'] });
      await assertRefused(provisioning().createBatch(again, t0), ConflictError);
      assert.equal(await provisioning().getExpectedDevice('S7'), undefined);
    });

    const invalid: Array<[string, Partial<NewBatch>]> = [
      ['no serials', { serials: [], claimCodes: [] }],
      ['a claim code missing', { claimCodes: ['CODE-1', 'CODE-2'] }],
      ['a repeated serial', { serials: ['S1', 'S1', 'S3'] }],
      ['a repeated claim code', { claimCodes: ['CODE-1', 'CODE-1', 'CODE-3'] }],
      ['a negative claim limit', { claimLimit: -1 }],
    ];
    for (const [name, overrides] of invalid) {
      it(`refuses a batch with ${name} as ValidationError`, async () => {
        await assertRefused(provisioning().createBatch(newBatch(overrides), t0), ValidationError);
        assert.equal(await provisioning().getBatch('b-1'), undefined);
      });
    }
  });

  it('refuses calls once the stores are closed', async () => {
    await stores().close();
    await assertRefused(provisioning().getBatch('b-1'), UnavailableError);
    await assertRefused(provisioning().createBatch(newBatch(), t0), UnavailableError);
    await assertRefused(provisioning().listAudit({ limit: 10 }), UnavailableError);
  });
}
