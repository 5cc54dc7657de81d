/** The ProvisioningStore contract: certificate renewal records, revocation and device tokens. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ConflictError, ForbiddenError, NotFoundError } from '../../src/infra/errors.ts';
import {
  assertRefused,
  certificateRequest,
  dayMs,
  iso,
  newBatch,
  t0,
  tokenRequest,
  type CurrentStores,
} from './provisioning-fixtures.ts';

const renewal = (serial: string, deviceId = 'S1') => ({
  serial,
  deviceId,
  fingerprint256: `fp-${serial}`,
  notAfter: t0 + 400 * dayMs,
});

export function credentialContract(stores: CurrentStores): void {
  const provisioning = () => stores().provisioning;

  describe('certificates, tokens and revocation', () => {
    beforeEach(async () => {
      await provisioning().createBatch(newBatch(), t0);
      await provisioning().completeProvisioning(certificateRequest('S1'));
      await provisioning().completeProvisioning(tokenRequest('S2'));
    });

    it('records a renewed certificate next to the first, in issue order', async () => {
      await provisioning().recordCertificate(renewal('cert-S1-b'), t0 + 5000);
      const listed = await provisioning().listCertificates('S1');
      assert.deepEqual(
        listed.map((cert) => [cert.serial, cert.issuedAt]),
        [
          ['cert-S1', iso(t0 + 1000)],
          ['cert-S1-b', iso(t0 + 5000)],
        ],
      );
      assert.deepEqual(await provisioning().getCertificate('cert-S1-b'), listed[1]);
      assert.equal(await provisioning().getCertificate('cert-none'), undefined);
    });

    it('refuses a certificate for an unknown device or with a serial already recorded', async () => {
      await assertRefused(provisioning().recordCertificate(renewal('c-x', 'ghost'), t0), NotFoundError);
      await assertRefused(provisioning().recordCertificate(renewal('cert-S1'), t0), ConflictError);
      assert.equal((await provisioning().listCertificates('S1')).length, 1);
    });

    it('revokes every certificate and the token of a device, once', async () => {
      await provisioning().recordCertificate(renewal('cert-S1-b'), t0 + 5000);
      const audited = (await provisioning().listAudit({ limit: 100 })).length;
      assert.deepEqual(await provisioning().revokeDevice('S1', 'stolen', t0 + 9000), [
        'cert-S1',
        'cert-S1-b',
      ]);
      assert.equal(await provisioning().isDeviceRevoked('S1'), true);
      for (const cert of await provisioning().listCertificates('S1')) {
        assert.deepEqual([cert.revokedAt, cert.revocationReason], [iso(t0 + 9000), 'stolen']);
      }
      assert.deepEqual(await provisioning().listRevokedCertificates(), [
        { serial: 'cert-S1', deviceId: 'S1', revokedAt: iso(t0 + 9000), reason: 'stolen' },
        { serial: 'cert-S1-b', deviceId: 'S1', revokedAt: iso(t0 + 9000), reason: 'stolen' },
      ]);
      assert.deepEqual(await provisioning().revokeDevice('S1', 'again', t0 + 10_000), []);
      assert.equal((await provisioning().listRevokedCertificates())[0]?.revokedAt, iso(t0 + 9000));
      // The caller audits revocations, with its own actor and source.
      assert.equal((await provisioning().listAudit({ limit: 100 })).length, audited);
    });

    it('revokes a token-only device and hides its token hash', async () => {
      assert.equal(await provisioning().getTokenHash('S2'), 'hash-S2');
      assert.deepEqual(await provisioning().revokeDevice('S2', 'retired', t0 + 9000), []);
      assert.equal(await provisioning().getTokenHash('S2'), undefined);
      assert.equal(await provisioning().isDeviceRevoked('S2'), true);
      assert.deepEqual(await provisioning().listRevokedDeviceIds(), ['S2']);
      assert.deepEqual(await provisioning().listRevokedCertificates(), []);
    });

    it('lists revoked devices in id order, and only those', async () => {
      await stores().devices.createDevice({ id: 'A-manual', serial: 'manual' }, t0);
      await provisioning().revokeDevice('S2', 'retired', t0 + 9000);
      await provisioning().revokeDevice('A-manual', 'retired', t0 + 9000);
      assert.deepEqual(await provisioning().listRevokedDeviceIds(), ['A-manual', 'S2']);
      assert.equal(await provisioning().isDeviceRevoked('S1'), false);
      assert.equal(await provisioning().isDeviceRevoked('ghost'), false);
    });

    it('refuses to revoke an unknown device', async () => {
      await assertRefused(provisioning().revokeDevice('ghost', 'x', t0), NotFoundError);
    });

    it('refuses a renewed certificate for a revoked device', async () => {
      await provisioning().revokeDevice('S1', 'stolen', t0 + 9000);
      await assertRefused(
        provisioning().recordCertificate(renewal('cert-S1-c'), t0 + 10_000),
        ForbiddenError,
        'device_revoked',
      );
      assert.equal(await provisioning().getCertificate('cert-S1-c'), undefined);
    });
  });
}
