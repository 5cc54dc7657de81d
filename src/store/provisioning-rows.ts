/**
 * The provisioning tables' row shapes, shared by both stores, and their mapping to the interface
 * types. As in row-mapping.ts the dialects differ only in how they hold times (epoch ms vs
 * timestamptz) and JSON (text vs jsonb), so those decoders are passed in.
 */
import { isoTime } from '../infra/clock.ts';
import type { ClaimState } from './provisioning-rules.ts';
import type {
  AuditEntry,
  Batch,
  ExpectedDevice,
  IssuedCertificate,
  ProvisioningStore,
} from './provisioning-types.ts';

export interface ProvisioningDecoders<Time, Json> {
  /** ms since epoch */
  timeMs(value: Time): number;
  json(value: Json): Record<string, unknown>;
}

/**
 * A batch with its counts; the caller appends `WHERE b.id = <placeholder>`. CAST(… AS INTEGER)
 * gives a JS number on both: PostgreSQL's count() is a bigint, which pg returns as text.
 */
export const selectBatch = `
  SELECT b.id, b.hardware_model, b.hardware_revision, b.claim_limit, b.claim_uses, b.claim_expires_at,
    b.claim_certificate_serial, b.created_at, b.created_by,
    (SELECT CAST(count(*) AS INTEGER) FROM expected_devices e WHERE e.batch_id = b.id) AS expected,
    (SELECT CAST(count(e.device_id) AS INTEGER) FROM expected_devices e WHERE e.batch_id = b.id) AS provisioned
  FROM batches b`;

/** Selects every revoked certificate as a RevokedRow, oldest revocation first. */
export const selectRevokedCertificates = `
  SELECT serial, device_id, revoked_at, revocation_reason FROM certificates
  WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial`;

export const selectRevokedDeviceIds = 'SELECT id FROM devices WHERE revoked_at IS NOT NULL ORDER BY id';

export const expectedColumns = 'serial, batch_id, claim_code, device_id, provisioned_at';
export const certificateColumns =
  'serial, device_id, fingerprint256, issued_at, not_after, revoked_at, revocation_reason';
export const auditColumns = 'id, at, actor, action, target, source, details';

export interface BatchRow<Time> {
  id: string;
  hardware_model: string;
  hardware_revision: string;
  claim_limit: number;
  claim_uses: number;
  claim_expires_at: Time;
  claim_certificate_serial: string;
  created_at: Time;
  created_by: string;
  expected: number;
  provisioned: number;
}

export interface ExpectedRow<Time> {
  serial: string;
  batch_id: string;
  claim_code: string;
  device_id: string | null;
  provisioned_at: Time | null;
}

export interface CertificateRow<Time> {
  serial: string;
  device_id: string;
  fingerprint256: string;
  issued_at: Time;
  not_after: Time;
  revoked_at: Time | null;
  revocation_reason: string | null;
}

export interface AuditRow<Time, Json> {
  /** A PostgreSQL bigserial arrives as text. */
  id: number | string;
  at: Time;
  actor: string;
  action: string;
  target: string;
  source: string;
  details: Json;
}

/** The batch columns completeProvisioning reads while holding the batch's lock. */
export interface ClaimRow<Time> {
  hardware_model: string;
  hardware_revision: string;
  claim_limit: number;
  claim_uses: number;
  claim_expires_at: Time;
}

type TimeMs<Time> = (value: Time) => number;

const optionalIso = <Time>(value: Time | null, timeMs: TimeMs<Time>) =>
  value === null ? null : isoTime(timeMs(value));

export function batchFromRow<Time>(row: BatchRow<Time>, timeMs: TimeMs<Time>): Batch {
  return {
    id: row.id,
    hardwareModel: row.hardware_model,
    hardwareRevision: row.hardware_revision,
    claimLimit: row.claim_limit,
    claimUses: row.claim_uses,
    claimExpiresAt: isoTime(timeMs(row.claim_expires_at)),
    claimCertificateSerial: row.claim_certificate_serial,
    createdAt: isoTime(timeMs(row.created_at)),
    createdBy: row.created_by,
    expected: row.expected,
    provisioned: row.provisioned,
  };
}

export function expectedFromRow<Time>(row: ExpectedRow<Time>, timeMs: TimeMs<Time>): ExpectedDevice {
  return {
    serial: row.serial,
    batchId: row.batch_id,
    claimCode: row.claim_code,
    deviceId: row.device_id,
    provisionedAt: optionalIso(row.provisioned_at, timeMs),
  };
}

export function certificateFromRow<Time>(row: CertificateRow<Time>, timeMs: TimeMs<Time>): IssuedCertificate {
  return {
    serial: row.serial,
    deviceId: row.device_id,
    fingerprint256: row.fingerprint256,
    issuedAt: isoTime(timeMs(row.issued_at)),
    notAfter: isoTime(timeMs(row.not_after)),
    revokedAt: optionalIso(row.revoked_at, timeMs),
    revocationReason: row.revocation_reason,
  };
}

export function auditFromRow<Time, Json>(
  row: AuditRow<Time, Json>,
  decode: ProvisioningDecoders<Time, Json>,
): AuditEntry {
  return {
    id: Number(row.id),
    at: isoTime(decode.timeMs(row.at)),
    actor: row.actor,
    action: row.action,
    target: row.target,
    source: row.source,
    details: decode.json(row.details),
  };
}

export function claimFromRow<Time>(row: ClaimRow<Time>, timeMs: TimeMs<Time>): ClaimState {
  return {
    hardwareModel: row.hardware_model,
    hardwareRevision: row.hardware_revision,
    claimLimit: row.claim_limit,
    claimUses: row.claim_uses,
    claimExpiresAtMs: timeMs(row.claim_expires_at),
  };
}

/** A row of the revoked-certificate listing; only revoked rows are selected, so both columns are set. */
export interface RevokedRow<Time> {
  serial: string;
  device_id: string;
  revoked_at: Time;
  revocation_reason: string;
}

/** An entry of ProvisioningStore.listRevokedCertificates. */
export type RevokedCertificate = Awaited<ReturnType<ProvisioningStore['listRevokedCertificates']>>[number];

export function revokedFromRow<Time>(row: RevokedRow<Time>, timeMs: TimeMs<Time>): RevokedCertificate {
  return {
    serial: row.serial,
    deviceId: row.device_id,
    revokedAt: isoTime(timeMs(row.revoked_at)),
    reason: row.revocation_reason,
  };
}
