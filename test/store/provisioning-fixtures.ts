/**
 * Shared pieces of the ProvisioningStore contract: a batch and requests to start from, and a
 * snapshot of everything the stores can show, to prove that a refused call wrote nothing.
 */
import assert from 'node:assert/strict';
import type { FlotillaError } from '../../src/infra/errors.ts';
import type { Stores } from '../../src/store/open-store.ts';
import type { NewBatch, ProvisioningRequest } from '../../src/store/provisioning-types.ts';

export const t0 = Date.UTC(2025, 0, 1);
export const dayMs = 24 * 60 * 60 * 1000;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** `stores()` returns the fresh stores of the running test. */
export type CurrentStores = () => Stores;

export function newBatch(overrides: Partial<NewBatch> = {}): NewBatch {
  return {
    id: 'b-1',
    hardwareModel: 'sensor-x',
    hardwareRevision: 'rev-b',
    serials: ['S1', 'S2', 'S3'],
    claimCodes: ['CODE-1', 'CODE-2', 'CODE-3'],
    claimLimit: 10,
    claimExpiresAt: t0 + dayMs,
    claimCertificateSerial: 'C1A1',
    createdBy: 'factory',
    ...overrides,
  };
}

/** n serials `P00`, `P01`, … with claim codes `PC00`, … */
export function numberedSerials(n: number): Pick<NewBatch, 'serials' | 'claimCodes'> {
  const numbers = Array.from({ length: n }, (_, i) => String(i).padStart(2, '0'));
  return { serials: numbers.map((i) => `P${i}`), claimCodes: numbers.map((i) => `PC${i}`) };
}

/** Provisions `serial` as device `serial` with a certificate `cert-<serial>`, one second after t0. */
export function certificateRequest(
  serial: string,
  overrides: Partial<ProvisioningRequest> = {},
): ProvisioningRequest {
  return {
    batchId: 'b-1',
    serial,
    deviceId: serial,
    credential: {
      kind: 'certificate',
      certificateSerial: `cert-${serial}`,
      fingerprint256: `fp-${serial}`,
      notAfter: t0 + 365 * dayMs,
    },
    atMs: t0 + 1000,
    actor: 'claim:b-1',
    source: '192.0.2.7',
    ...overrides,
  };
}

export function tokenRequest(
  serial: string,
  overrides: Partial<ProvisioningRequest> = {},
): ProvisioningRequest {
  return certificateRequest(serial, {
    credential: { kind: 'token', tokenHash: `hash-${serial}` },
    ...overrides,
  });
}

/** Everything observable about the given batches, serials and devices, plus the whole fleet and audit log. */
export async function snapshot(
  stores: Stores,
  keys: { batchIds: string[]; serials: string[]; deviceIds: string[] },
): Promise<unknown> {
  const { devices, provisioning } = stores;
  return {
    fleet: await devices.listDevices({}, { limit: 1000 }),
    batches: await Promise.all(keys.batchIds.map((id) => provisioning.getBatch(id))),
    expected: await Promise.all(keys.serials.map((serial) => provisioning.getExpectedDevice(serial))),
    certificates: await Promise.all(keys.deviceIds.map((id) => provisioning.listCertificates(id))),
    tokens: await Promise.all(keys.deviceIds.map((id) => provisioning.getTokenHash(id))),
    claimCodes: await Promise.all(keys.deviceIds.map((id) => provisioning.getClaimCode(id))),
    revoked: await provisioning.listRevokedCertificates(),
    audit: await provisioning.listAudit({ limit: 1000 }),
  };
}

/** Asserts `promise` rejects with `errorClass` and, when given, `details.reason`. */
export async function assertRefused(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => FlotillaError,
  reason?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    if (reason !== undefined) assert.equal(error.details?.['reason'], reason);
    return true;
  });
}
