/**
 * The provisioning store: factory batches and their expected serials, claim credentials,
 * issued certificates, revocations, device tokens, owner claim codes and the audit log.
 * Implemented next to the device store in sqlite/ and postgres/, in the same database, and
 * checked by the same contract suite on both (test/store/provisioning-store.contract.ts).
 */
import type { Device } from '../contracts/device.ts';
import type { AuditFilter } from './audit-query.ts';
import type { Page } from './types.ts';

export interface NewBatch {
  /** `b-<random>`; safe as a topic level and a certificate CN part. */
  id: string;
  hardwareModel: string;
  hardwareRevision: string;
  /** Unique across all batches; each matches DEVICE_ID_PATTERN (the serial becomes the device id). */
  serials: string[];
  /** Claim codes for owner assignment, one per serial, same order (printed on the label at the factory). */
  claimCodes: string[];
  /** How many devices may provision with the batch's claim credential. */
  claimLimit: number;
  /** ms since epoch: after this the claim credential is refused. */
  claimExpiresAt: number;
  /** Hex serial of the claim certificate issued for the batch. */
  claimCertificateSerial: string;
  createdBy: string;
}

export interface Batch {
  id: string;
  hardwareModel: string;
  hardwareRevision: string;
  claimLimit: number;
  claimUses: number;
  claimExpiresAt: string;
  claimCertificateSerial: string;
  createdAt: string;
  createdBy: string;
  /** Counts of the batch's serials. */
  expected: number;
  provisioned: number;
}

export interface ExpectedDevice {
  serial: string;
  batchId: string;
  claimCode: string;
  /** Set once provisioned (the device id). */
  deviceId: string | null;
  provisionedAt: string | null;
}

export type CredentialKind = 'certificate' | 'token';

export interface ProvisioningRequest {
  batchId: string;
  serial: string;
  deviceId: string;
  credential:
    | { kind: 'certificate'; certificateSerial: string; fingerprint256: string; notAfter: number }
    | { kind: 'token'; tokenHash: string };
  atMs: number;
  /** For the audit entry. */
  actor: string;
  source: string;
}

export interface IssuedCertificate {
  serial: string;
  deviceId: string;
  fingerprint256: string;
  issuedAt: string;
  notAfter: string;
  revokedAt: string | null;
  revocationReason: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  /** Who: `api`, `cli`, `device:<id>`, `claim:<batchId>`, `factory`. */
  actor: string;
  /** What: `batch.created`, `device.provisioned`, `provisioning.refused`, `certificate.renewed`, `device.revoked`, `owner.claimed`, … */
  action: string;
  /** The object: a device id, batch id or serial. */
  target: string;
  /** From where: a remote address, or `local`. */
  source: string;
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { atMs: number };

/** Who made a change and from where, for the audit entry the store appends with it. */
export type AuditOrigin = Pick<AuditEntry, 'actor' | 'source'>;

export interface ProvisioningStore {
  /** Registers a batch and its expected serials atomically; ConflictError naming the serials already known. */
  createBatch(batch: NewBatch, atMs: number): Promise<Batch>;
  getBatch(id: string): Promise<Batch | undefined>;
  getExpectedDevice(serial: string): Promise<ExpectedDevice | undefined>;

  /**
   * Atomically: checks the serial belongs to the batch and is not provisioned yet, and that the
   * batch's claim has uses left and has not expired; then creates the device record (model and
   * revision from the batch, connection offline), marks the serial provisioned, counts the claim
   * use, records the credential (issued certificate or token hash) and appends the audit entry.
   * Refusals throw: NotFoundError (unknown serial), ForbiddenError (other batch, claim expired or
   * used up), ConflictError (already provisioned). Nothing is written when it throws.
   */
  completeProvisioning(request: ProvisioningRequest): Promise<Device>;

  /** Records a further certificate for an existing device (renewal). */
  recordCertificate(
    cert: { serial: string; deviceId: string; fingerprint256: string; notAfter: number },
    atMs: number,
  ): Promise<void>;
  getCertificate(serial: string): Promise<IssuedCertificate | undefined>;
  listCertificates(deviceId: string): Promise<IssuedCertificate[]>;

  /** Revokes every certificate and token of the device; returns the revoked certificate serials. */
  revokeDevice(deviceId: string, reason: string, atMs: number): Promise<string[]>;
  /** All revoked certificates (for the CRL and the gateway's deny list). */
  listRevokedCertificates(): Promise<
    Array<{ serial: string; deviceId: string; revokedAt: string; reason: string }>
  >;
  /** Ids of revoked devices (also token-only devices, which have no certificate rows). */
  listRevokedDeviceIds(): Promise<string[]>;
  isDeviceRevoked(deviceId: string): Promise<boolean>;

  /** The hash of the device's active token, or undefined (none, or revoked). */
  getTokenHash(deviceId: string): Promise<string | undefined>;

  /**
   * Owner assignment by claim code; ForbiddenError for a wrong code, ConflictError if owned by someone else.
   * `origin` defaults to `{ actor: 'api', source: 'local' }`.
   */
  redeemClaimCode(code: string, owner: string, atMs: number, origin?: AuditOrigin): Promise<Device>;
  setOwner(deviceId: string, owner: string | null, atMs: number, origin?: AuditOrigin): Promise<Device>;
  getClaimCode(deviceId: string): Promise<string | undefined>;

  appendAudit(entry: NewAuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;
  /** One page of the audit log, newest first unless `order: 'oldest'`; `nextCursor` when more follow. */
  pageAudit(filter: AuditFilter): Promise<Page<AuditEntry>>;
}
