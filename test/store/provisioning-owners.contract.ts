/** The ProvisioningStore contract: owners by claim code or by operator, and the audit log. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/infra/errors.ts';
import {
  assertRefused,
  certificateRequest,
  iso,
  newBatch,
  t0,
  type CurrentStores,
} from './provisioning-fixtures.ts';

const origin = { actor: 'user:alice', source: '198.51.100.4' };

export function ownerAndAuditContract(stores: CurrentStores): void {
  const provisioning = () => stores().provisioning;
  const ownerAudit = async () =>
    (await provisioning().listAudit({ target: 'S1', limit: 100 })).filter((e) =>
      e.action.startsWith('owner.'),
    );

  describe('owners', () => {
    beforeEach(async () => {
      await provisioning().createBatch(newBatch(), t0);
      await provisioning().completeProvisioning(certificateRequest('S1'));
    });

    it('assigns the owner by claim code and audits it', async () => {
      const device = await provisioning().redeemClaimCode('CODE-1', 'alice', t0 + 2000, origin);
      assert.equal(device.owner, 'alice');
      assert.deepEqual(await stores().devices.getDevice('S1'), device);
      const [entry] = await ownerAudit();
      assert.deepEqual(
        { ...entry, id: 0 },
        {
          id: 0,
          at: iso(t0 + 2000),
          ...origin,
          action: 'owner.claimed',
          target: 'S1',
          details: { owner: 'alice', previousOwner: null },
        },
      );
    });

    it('accepts the same claim again without a second audit entry', async () => {
      await provisioning().redeemClaimCode('CODE-1', 'alice', t0 + 2000);
      const again = await provisioning().redeemClaimCode('CODE-1', 'alice', t0 + 3000);
      assert.equal(again.owner, 'alice');
      const entries = await ownerAudit();
      assert.equal(entries.length, 1);
      assert.deepEqual([entries[0]?.actor, entries[0]?.source], ['api', 'local']);
    });

    it('refuses a claim code of a device someone else owns', async () => {
      await provisioning().redeemClaimCode('CODE-1', 'alice', t0 + 2000);
      await assertRefused(provisioning().redeemClaimCode('CODE-1', 'mallory', t0 + 3000), ConflictError);
      assert.equal((await stores().devices.getDevice('S1'))?.owner, 'alice');
    });

    it('refuses an unknown code, and the code of a serial not yet provisioned', async () => {
      await assertRefused(
        provisioning().redeemClaimCode('CODE-9', 'alice', t0),
        ForbiddenError,
        'unknown_code',
      );
      await assertRefused(
        provisioning().redeemClaimCode('CODE-2', 'alice', t0),
        ForbiddenError,
        'unknown_code',
      );
      assert.deepEqual(await ownerAudit(), []);
    });

    it('transfers and releases ownership, auditing each change', async () => {
      await provisioning().redeemClaimCode('CODE-1', 'alice', t0 + 2000);
      assert.equal((await provisioning().setOwner('S1', 'bob', t0 + 3000, origin)).owner, 'bob');
      assert.equal((await provisioning().setOwner('S1', 'bob', t0 + 3500)).owner, 'bob');
      assert.equal((await provisioning().setOwner('S1', null, t0 + 4000)).owner, null);
      const entries = await ownerAudit();
      assert.deepEqual(
        entries.map((e) => [e.action, e.details]),
        [
          ['owner.released', { owner: null, previousOwner: 'bob' }],
          ['owner.transferred', { owner: 'bob', previousOwner: 'alice' }],
          ['owner.claimed', { owner: 'alice', previousOwner: null }],
        ],
      );
      assert.equal(entries[1]?.actor, 'user:alice');
    });

    it('refuses to set the owner of an unknown device', async () => {
      await assertRefused(provisioning().setOwner('ghost', 'bob', t0), NotFoundError);
    });

    it('knows the claim code of a provisioned device only', async () => {
      assert.equal(await provisioning().getClaimCode('S1'), 'CODE-1');
      assert.equal(await provisioning().getClaimCode('S2'), undefined);
    });
  });

  describe('audit log', () => {
    const append = (atMs: number, action: string, target: string, details: Record<string, unknown> = {}) =>
      provisioning().appendAudit({ atMs, actor: 'cli', action, target, source: 'local', details });

    it('lists newest first, ties in append order reversed, and keeps nested details', async () => {
      await append(t0 + 2, 'batch.created', 'b-1', { serials: 3, nested: { list: [1, 'two', null] } });
      await append(t0 + 1, 'device.revoked', 'S1');
      await append(t0 + 2, 'device.revoked', 'S2');
      const entries = await provisioning().listAudit({ limit: 10 });
      assert.deepEqual(
        entries.map((e) => [e.at, e.action, e.target]),
        [
          [iso(t0 + 2), 'device.revoked', 'S2'],
          [iso(t0 + 2), 'batch.created', 'b-1'],
          [iso(t0 + 1), 'device.revoked', 'S1'],
        ],
      );
      assert.deepEqual(entries[1]?.details, { serials: 3, nested: { list: [1, 'two', null] } });
      assert.ok((entries[0]?.id ?? 0) > (entries[1]?.id ?? 0));
    });

    it('filters by target and action, and honours the limit', async () => {
      await append(t0 + 1, 'device.revoked', 'S1');
      await append(t0 + 2, 'owner.claimed', 'S1');
      await append(t0 + 3, 'device.revoked', 'S2');
      const pick = async (filter: { target?: string; action?: string; limit: number }) =>
        (await provisioning().listAudit(filter)).map((e) => `${e.action}@${e.target}`);
      assert.deepEqual(await pick({ target: 'S1', limit: 10 }), ['owner.claimed@S1', 'device.revoked@S1']);
      assert.deepEqual(await pick({ action: 'device.revoked', limit: 10 }), [
        'device.revoked@S2',
        'device.revoked@S1',
      ]);
      assert.deepEqual(await pick({ target: 'S1', action: 'device.revoked', limit: 10 }), [
        'device.revoked@S1',
      ]);
      assert.deepEqual(await pick({ limit: 2 }), ['device.revoked@S2', 'owner.claimed@S1']);
    });

    for (const limit of [0, 1001, 1.5]) {
      it(`refuses limit ${limit} as ValidationError`, async () => {
        await assertRefused(provisioning().listAudit({ limit }), ValidationError);
      });
    }
  });
}
