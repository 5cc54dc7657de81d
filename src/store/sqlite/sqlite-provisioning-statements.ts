/**
 * Every statement the SQLite provisioning store runs, prepared once per database. Times are ms
 * since the epoch; lists of values are bound as one JSON array and expanded with json_each().
 */
import type Database from 'better-sqlite3';
import type { SqliteStatements } from './sqlite-statements.ts';
import {
  certificateColumns,
  expectedColumns,
  selectBatch,
  selectRevokedCertificates,
  selectRevokedDeviceIds,
  type AuditRow,
  type BatchRow,
  type CertificateRow,
  type ClaimRow,
  type ExpectedRow,
  type RevokedRow,
} from '../provisioning-rows.ts';

export interface BatchParams {
  id: string;
  hardwareModel: string;
  hardwareRevision: string;
  claimLimit: number;
  claimExpiresAt: number;
  claimCertificateSerial: string;
  createdAt: number;
  createdBy: string;
}

export interface CertificateParams {
  serial: string;
  deviceId: string;
  fingerprint256: string;
  issuedAt: number;
  notAfter: number;
}

export interface AuditParams {
  at: number;
  actor: string;
  action: string;
  target: string;
  source: string;
  /** JSON object */
  details: string;
}

export interface OwnerRow {
  device_id: string;
  owner: string | null;
}

export function prepareProvisioningStatements(db: Database.Database) {
  return {
    batchById: db.prepare<[string], BatchRow<number>>(`${selectBatch} WHERE b.id = ?`),
    batchExists: db.prepare<[string], { id: string }>('SELECT id FROM batches WHERE id = ?'),
    /** @serials: JSON array. Serials known to any batch or already used by a device. */
    takenSerials: db.prepare<{ serials: string }, { serial: string }>(
      `SELECT serial FROM expected_devices WHERE serial IN (SELECT value FROM json_each(@serials))
       UNION SELECT serial FROM devices WHERE serial IN (SELECT value FROM json_each(@serials))`,
    ),
    /** @codes: JSON array */
    takenClaimCodes: db.prepare<{ codes: string }, { claim_code: string }>(
      'SELECT claim_code FROM expected_devices WHERE claim_code IN (SELECT value FROM json_each(@codes))',
    ),
    insertBatch: db.prepare<BatchParams>(
      `INSERT INTO batches (id, hardware_model, hardware_revision, claim_limit, claim_expires_at,
         claim_certificate_serial, created_at, created_by)
       VALUES (@id, @hardwareModel, @hardwareRevision, @claimLimit, @claimExpiresAt, @claimCertificateSerial,
         @createdAt, @createdBy)`,
    ),
    insertExpected: db.prepare<{ serial: string; batchId: string; claimCode: string }>(
      'INSERT INTO expected_devices (serial, batch_id, claim_code) VALUES (@serial, @batchId, @claimCode)',
    ),
    expectedBySerial: db.prepare<[string], ExpectedRow<number>>(
      `SELECT ${expectedColumns} FROM expected_devices WHERE serial = ?`,
    ),
    claimByBatch: db.prepare<[string], ClaimRow<number>>(
      `SELECT hardware_model, hardware_revision, claim_limit, claim_uses, claim_expires_at
       FROM batches WHERE id = ?`,
    ),
    markProvisioned: db.prepare<{ serial: string; deviceId: string; at: number }>(
      `UPDATE expected_devices SET device_id = @deviceId, provisioned_at = @at
       WHERE serial = @serial AND device_id IS NULL`,
    ),
    countClaimUse: db.prepare<[string]>('UPDATE batches SET claim_uses = claim_uses + 1 WHERE id = ?'),
    insertCertificate: db.prepare<CertificateParams>(
      `INSERT INTO certificates (serial, device_id, fingerprint256, issued_at, not_after)
       VALUES (@serial, @deviceId, @fingerprint256, @issuedAt, @notAfter)`,
    ),
    insertToken: db.prepare<{ deviceId: string; tokenHash: string; at: number }>(
      'INSERT INTO device_tokens (device_id, token_hash, created_at) VALUES (@deviceId, @tokenHash, @at)',
    ),
    insertAudit: db.prepare<AuditParams>(
      `INSERT INTO audit_log (at, actor, action, target, source, details)
       VALUES (@at, @actor, @action, @target, @source, @details)`,
    ),
    certificateBySerial: db.prepare<[string], CertificateRow<number>>(
      `SELECT ${certificateColumns} FROM certificates WHERE serial = ?`,
    ),
    certificatesByDevice: db.prepare<[string], CertificateRow<number>>(
      `SELECT ${certificateColumns} FROM certificates WHERE device_id = ? ORDER BY issued_at, serial`,
    ),
    revokedCertificates: db.prepare<[], RevokedRow<number>>(selectRevokedCertificates),
    revokedDeviceIds: db.prepare<[], { id: string }>(selectRevokedDeviceIds),
    deviceRevokedAt: db.prepare<[string], { revoked_at: number | null }>(
      'SELECT revoked_at FROM devices WHERE id = ?',
    ),
    /** Keeps the first revocation time when a device is revoked again. */
    revokeDevice: db.prepare<{ id: string; at: number }>(
      'UPDATE devices SET revoked_at = coalesce(revoked_at, @at) WHERE id = @id',
    ),
    revokeCertificates: db.prepare<{ id: string; at: number; reason: string }, { serial: string }>(
      `UPDATE certificates SET revoked_at = @at, revocation_reason = @reason
       WHERE device_id = @id AND revoked_at IS NULL RETURNING serial`,
    ),
    revokeToken: db.prepare<{ id: string; at: number }>(
      'UPDATE device_tokens SET revoked_at = @at WHERE device_id = @id AND revoked_at IS NULL',
    ),
    activeTokenHash: db.prepare<[string], { token_hash: string }>(
      `SELECT t.token_hash FROM device_tokens t JOIN devices d ON d.id = t.device_id
       WHERE t.device_id = ? AND t.revoked_at IS NULL AND d.revoked_at IS NULL`,
    ),
    ownerByClaimCode: db.prepare<[string], OwnerRow>(
      `SELECT d.id AS device_id, d.owner FROM expected_devices e JOIN devices d ON d.id = e.device_id
       WHERE e.claim_code = ?`,
    ),
    ownerByDevice: db.prepare<[string], OwnerRow>('SELECT id AS device_id, owner FROM devices WHERE id = ?'),
    /** The owner is an attribute rollout selectors read (see migration 8). */
    setOwner: db.prepare<{ id: string; owner: string | null; at: number }>(
      `UPDATE devices SET owner = @owner,
         attributes_changed_at = CASE WHEN owner IS NOT @owner THEN @at ELSE attributes_changed_at END
       WHERE id = @id`,
    ),
    claimCodeByDevice: db.prepare<[string], { claim_code: string }>(
      'SELECT claim_code FROM expected_devices WHERE device_id = ?',
    ),
  };
}

export type SqliteProvisioningStatements = ReturnType<typeof prepareProvisioningStatements>;

/** The device store's statements too: provisioning inserts and reads devices. */
export interface SqliteProvisioningSql {
  devices: SqliteStatements;
  provisioning: SqliteProvisioningStatements;
}

export type SqliteAuditRow = AuditRow<number, string>;
