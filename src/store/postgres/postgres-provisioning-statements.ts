/**
 * The SQL the PostgreSQL provisioning store runs. Values are always bound ($n); times are
 * timestamptz bound as Date; lists are bound as text[]; JSON is bound as text and cast to jsonb.
 * Rows a decision depends on are read with FOR UPDATE / FOR SHARE inside the deciding transaction.
 */
import { certificateColumns, expectedColumns, selectBatch } from '../provisioning-rows.ts';

export { selectRevokedCertificates, selectRevokedDeviceIds } from '../provisioning-rows.ts';

export const selectBatchById = `${selectBatch} WHERE b.id = $1`;

export const batchExists = 'SELECT EXISTS (SELECT 1 FROM batches WHERE id = $1) AS found';

/** $1 serials. Serials known to any batch or already used by a device. */
export const selectTakenSerials = `
  SELECT serial FROM expected_devices WHERE serial = ANY ($1::text[])
  UNION SELECT serial FROM devices WHERE serial = ANY ($1::text[])`;

/** $1 claim codes */
export const selectTakenClaimCodes =
  'SELECT claim_code FROM expected_devices WHERE claim_code = ANY ($1::text[])';

/** $1 id, $2 model, $3 revision, $4 claim limit, $5 claim expires at, $6 claim certificate serial, $7 at, $8 by */
export const insertBatch = `
  INSERT INTO batches (id, hardware_model, hardware_revision, claim_limit, claim_expires_at, claim_certificate_serial,
    created_at, created_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** $1 batch id, $2 serials, $3 claim codes (parallel arrays) */
export const insertExpected = `
  INSERT INTO expected_devices (serial, batch_id, claim_code)
  SELECT serial, $1, claim_code FROM unnest($2::text[], $3::text[]) AS e(serial, claim_code)`;

export const selectExpected = `SELECT ${expectedColumns} FROM expected_devices WHERE serial = $1`;

/**
 * $1 batch id. The row lock serialises every provisioning of the batch: claim uses are counted,
 * and a serial is marked provisioned, by one transaction at a time.
 */
export const lockClaim = `
  SELECT hardware_model, hardware_revision, claim_limit, claim_uses, claim_expires_at
  FROM batches WHERE id = $1 FOR UPDATE`;

/** $1 serial, $2 device id, $3 at */
export const markProvisioned = `
  UPDATE expected_devices SET device_id = $2, provisioned_at = $3 WHERE serial = $1 AND device_id IS NULL`;

export const countClaimUse = 'UPDATE batches SET claim_uses = claim_uses + 1 WHERE id = $1';

/** $1 serial, $2 device id, $3 fingerprint, $4 issued at, $5 not after */
export const insertCertificate = `
  INSERT INTO certificates (serial, device_id, fingerprint256, issued_at, not_after) VALUES ($1, $2, $3, $4, $5)`;

/** $1 device id, $2 token hash, $3 at */
export const insertToken =
  'INSERT INTO device_tokens (device_id, token_hash, created_at) VALUES ($1, $2, $3)';

/** $1 at, $2 actor, $3 action, $4 target, $5 source, $6 details JSON */
export const insertAudit = `
  INSERT INTO audit_log (at, actor, action, target, source, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`;

export const selectCertificate = `SELECT ${certificateColumns} FROM certificates WHERE serial = $1`;

export const selectDeviceCertificates = `
  SELECT ${certificateColumns} FROM certificates WHERE device_id = $1 ORDER BY issued_at, serial`;

export const selectDeviceRevokedAt = 'SELECT revoked_at FROM devices WHERE id = $1';

/** Held while a certificate is recorded, so a concurrent revocation waits and then revokes it too. */
export const shareDeviceRevokedAt = 'SELECT revoked_at FROM devices WHERE id = $1 FOR SHARE';

/** $1 id, $2 at. Keeps the first revocation time when a device is revoked again. */
export const revokeDevice = 'UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1';

/** $1 device id, $2 at, $3 reason */
export const revokeCertificates = `
  UPDATE certificates SET revoked_at = $2, revocation_reason = $3
  WHERE device_id = $1 AND revoked_at IS NULL RETURNING serial`;

/** $1 device id, $2 at */
export const revokeToken =
  'UPDATE device_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL';

export const selectActiveTokenHash = `
  SELECT t.token_hash FROM device_tokens t JOIN devices d ON d.id = t.device_id
  WHERE t.device_id = $1 AND t.revoked_at IS NULL AND d.revoked_at IS NULL`;

export const lockOwnerByClaimCode = `
  SELECT d.id AS device_id, d.owner FROM expected_devices e JOIN devices d ON d.id = e.device_id
  WHERE e.claim_code = $1 FOR UPDATE OF d`;

export const lockOwnerByDevice = 'SELECT id AS device_id, owner FROM devices WHERE id = $1 FOR UPDATE';

/** $1 id, $2 owner or null, $3 at. The owner is an attribute rollout selectors read (migration 8). */
export const setOwner = `UPDATE devices SET owner = $2,
  attributes_changed_at = CASE WHEN owner IS DISTINCT FROM $2 THEN $3 ELSE attributes_changed_at END
  WHERE id = $1`;

export const selectClaimCode = 'SELECT claim_code FROM expected_devices WHERE device_id = $1';
