/** The ProvisioningStore contract: completeProvisioning, its refusals and its concurrency. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, ForbiddenError, NotFoundError, type FlotillaError } from '../../src/infra/errors.ts';
import type { ProvisioningRequest } from '../../src/store/provisioning-types.ts';
import {
  assertRefused,
  certificateRequest,
  dayMs,
  iso,
  newBatch,
  numberedSerials,
  snapshot,
  t0,
  tokenRequest,
  type CurrentStores,
} from './provisioning-fixtures.ts';

interface RefusalCase {
  name: string;
  /** Writes the state the refusal depends on. */
  arrange?: (stores: ReturnType<CurrentStores>) => Promise<unknown>;
  request: ProvisioningRequest;
  error: abstract new (...args: never[]) => FlotillaError;
  reason?: string;
}

const refusals: RefusalCase[] = [
  {
    name: 'an unknown serial',
    request: certificateRequest('S-none'),
    error: NotFoundError,
    reason: 'unknown_serial',
  },
  {
    name: 'a serial of another batch',
    arrange: (s) => s.provisioning.createBatch(newBatch({ id: 'b-2', ...numberedSerials(1) }), t0),
    request: certificateRequest('S1', { batchId: 'b-2' }),
    error: ForbiddenError,
    reason: 'wrong_batch',
  },
  {
    name: 'a serial already provisioned',
    arrange: (s) => s.provisioning.completeProvisioning(certificateRequest('S1')),
    request: certificateRequest('S1', {
      deviceId: 'S1-again',
      credential: { kind: 'token', tokenHash: 'h' },
    }),
    error: ConflictError,
    reason: 'already_provisioned',
  },
  {
    name: 'an expired claim (expiry instant included)',
    request: certificateRequest('S1', { atMs: t0 + dayMs }),
    error: ForbiddenError,
    reason: 'claim_expired',
  },
  {
    name: 'a used-up claim',
    arrange: async (s) => {
      await s.provisioning.completeProvisioning(certificateRequest('S1'));
      await s.provisioning.completeProvisioning(tokenRequest('S2'));
    },
    request: certificateRequest('S3'),
    error: ForbiddenError,
    reason: 'claim_exhausted',
  },
  {
    name: 'a device id that already exists',
    arrange: (s) => s.devices.createDevice({ id: 'taken', serial: 'other' }, t0),
    request: certificateRequest('S1', { deviceId: 'taken' }),
    error: ConflictError,
  },
  {
    // Refused by the last insert: proves the earlier writes of the transaction are undone.
    name: 'a certificate serial already recorded',
    arrange: (s) => s.provisioning.completeProvisioning(certificateRequest('S1')),
    request: certificateRequest('S2', {
      credential: {
        kind: 'certificate',
        certificateSerial: 'cert-S1',
        fingerprint256: 'fp',
        notAfter: t0 + dayMs,
      },
    }),
    error: ConflictError,
  },
];

export function completeProvisioningContract(stores: CurrentStores): void {
  const provisioning = () => stores().provisioning;
  const keys = {
    batchIds: ['b-1', 'b-2'],
    serials: ['S1', 'S2', 'S3'],
    deviceIds: ['S1', 'S2', 'S3', 'taken'],
  };

  describe('completeProvisioning', () => {
    it('creates the device, marks the serial, counts the use, records the certificate and audits', async () => {
      await provisioning().createBatch(newBatch(), t0);
      const request = certificateRequest('S1', { deviceId: 'dev-s1' });
      const device = await provisioning().completeProvisioning(request);
      assert.deepEqual(device, {
        id: 'dev-s1',
        serial: 'S1',
        hardwareModel: 'sensor-x',
        hardwareRevision: 'rev-b',
        firmwareVersion: null,
        tags: {},
        region: null,
        owner: null,
        createdAt: iso(t0 + 1000),
        lastSeenAt: null,
        connectionState: 'offline',
        connectionChangedAt: null,
      });
      assert.deepEqual(await stores().devices.getDevice('dev-s1'), device);
      const expected = await provisioning().getExpectedDevice('S1');
      assert.deepEqual([expected?.deviceId, expected?.provisionedAt], ['dev-s1', iso(t0 + 1000)]);
      const batch = await provisioning().getBatch('b-1');
      assert.deepEqual([batch?.claimUses, batch?.expected, batch?.provisioned], [1, 3, 1]);
      assert.deepEqual(await provisioning().listCertificates('dev-s1'), [
        {
          serial: 'cert-S1',
          deviceId: 'dev-s1',
          fingerprint256: 'fp-S1',
          issuedAt: iso(t0 + 1000),
          notAfter: iso(t0 + 365 * dayMs),
          revokedAt: null,
          revocationReason: null,
        },
      ]);
      assert.equal(await provisioning().getTokenHash('dev-s1'), undefined);
      assert.equal(await provisioning().getClaimCode('dev-s1'), 'CODE-1');
      const [entry, ...older] = await provisioning().listAudit({ limit: 10 });
      assert.equal(older.length, 0);
      assert.deepEqual(
        { ...entry, id: 0 },
        {
          id: 0,
          at: iso(t0 + 1000),
          actor: 'claim:b-1',
          action: 'device.provisioned',
          target: 'dev-s1',
          source: '192.0.2.7',
          details: { batchId: 'b-1', serial: 'S1', credential: 'certificate' },
        },
      );
    });

    it('records a token hash instead of a certificate', async () => {
      await provisioning().createBatch(newBatch(), t0);
      await provisioning().completeProvisioning(tokenRequest('S2'));
      assert.equal(await provisioning().getTokenHash('S2'), 'hash-S2');
      assert.deepEqual(await provisioning().listCertificates('S2'), []);
      const [entry] = await provisioning().listAudit({ target: 'S2', limit: 1 });
      assert.equal(entry?.details['credential'], 'token');
    });

    for (const refusal of refusals) {
      it(`refuses ${refusal.name} and writes nothing`, async () => {
        await provisioning().createBatch(newBatch({ claimLimit: 2 }), t0);
        await refusal.arrange?.(stores());
        const before = await snapshot(stores(), keys);
        await assertRefused(
          provisioning().completeProvisioning(refusal.request),
          refusal.error,
          refusal.reason,
        );
        assert.deepEqual(await snapshot(stores(), keys), before);
      });
    }

    it('never exceeds the claim limit under concurrent requests', async () => {
      await provisioning().createBatch(newBatch({ ...numberedSerials(20), claimLimit: 10 }), t0);
      const requests = numberedSerials(20).serials.map((serial) => certificateRequest(serial));
      const outcomes = await Promise.allSettled(requests.map((r) => provisioning().completeProvisioning(r)));
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(outcomes.length - refused.length, 10);
      for (const outcome of refused) {
        assert.ok(outcome.reason instanceof ForbiddenError);
        assert.equal(outcome.reason.details?.['reason'], 'claim_exhausted');
      }
      const batch = await provisioning().getBatch('b-1');
      assert.deepEqual([batch?.claimUses, batch?.provisioned], [10, 10]);
      assert.equal((await stores().devices.fleetSummary()).total, 10);
    });

    it('provisions one serial once when requests race', async () => {
      await provisioning().createBatch(newBatch(), t0);
      const requests = Array.from({ length: 5 }, (_, i) => tokenRequest('S1', { deviceId: `racer-${i}` }));
      const outcomes = await Promise.allSettled(requests.map((r) => provisioning().completeProvisioning(r)));
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
      assert.equal((await provisioning().getBatch('b-1'))?.claimUses, 1);
      assert.equal((await stores().devices.fleetSummary()).total, 1);
    });
  });
}
