/**
 * The SQLite provisioning store's multi-statement writes. Each function runs inside one
 * better-sqlite3 transaction started IMMEDIATE by the store, so it reads under the write lock
 * (another process cannot slip in between a check and the write) and any throw rolls it all back.
 */
import type { Device } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import {
  planOwnerChange,
  planProvisioning,
  type CertificateRecord,
  type OwnerChange,
} from '../provisioning-plan.ts';
import { batchConflict, certificateRefusal, type OwnerState } from '../provisioning-rules.ts';
import { claimFromRow } from '../provisioning-rows.ts';
import type { NewBatch, ProvisioningRequest } from '../provisioning-types.ts';
import type { SqliteProvisioningSql } from './sqlite-provisioning-statements.ts';
import { toSqliteDevice } from './sqlite-statements.ts';
import { insertCertificate, runSteps } from './sqlite-write-steps.ts';

const sameMs = (value: number) => value;

/** ConflictError naming what is taken; otherwise inserts the batch and its expected serials. */
export function insertBatch(sql: SqliteProvisioningSql, batch: NewBatch, atMs: number): void {
  const { provisioning } = sql;
  const conflict = batchConflict(batch.id, {
    batchExists: provisioning.batchExists.get(batch.id) !== undefined,
    serials: provisioning.takenSerials.all({ serials: JSON.stringify(batch.serials) }).map((r) => r.serial),
    claimCodes: provisioning.takenClaimCodes
      .all({ codes: JSON.stringify(batch.claimCodes) })
      .map((r) => r.claim_code),
  });
  if (conflict !== undefined) throw conflict;
  const { serials, claimCodes, ...columns } = batch;
  provisioning.insertBatch.run({ ...columns, createdAt: atMs });
  serials.forEach((serial, index) => {
    // validateNewBatch guaranteed one claim code per serial.
    const claimCode = claimCodes[index] ?? '';
    provisioning.insertExpected.run({ serial, batchId: batch.id, claimCode });
  });
}

export function provision(sql: SqliteProvisioningSql, request: ProvisioningRequest): Device {
  const expected = sql.provisioning.expectedBySerial.get(request.serial);
  const claim = sql.provisioning.claimByBatch.get(request.batchId);
  runSteps(
    sql,
    planProvisioning(
      request,
      expected && { batchId: expected.batch_id, deviceId: expected.device_id },
      claim && claimFromRow(claim, sameMs),
    ),
  );
  return deviceById(sql, request.deviceId);
}

export function recordCertificate(sql: SqliteProvisioningSql, cert: CertificateRecord): void {
  const device = sql.provisioning.deviceRevokedAt.get(cert.deviceId);
  const refusal = certificateRefusal(cert.deviceId, device && { revoked: device.revoked_at !== null });
  if (refusal !== undefined) throw refusal;
  insertCertificate(sql, cert);
}

/** Marks the device and all its credentials revoked; returns the certificate serials revoked now. */
export function revoke(sql: SqliteProvisioningSql, deviceId: string, reason: string, atMs: number): string[] {
  const { provisioning } = sql;
  if (provisioning.revokeDevice.run({ id: deviceId, at: atMs }).changes === 0) {
    throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
  }
  const revoked = provisioning.revokeCertificates.all({ id: deviceId, at: atMs, reason });
  provisioning.revokeToken.run({ id: deviceId, at: atMs });
  return revoked.map((row) => row.serial).sort();
}

/** Applies an owner change to the owner read in the same transaction. */
export function changeOwner(sql: SqliteProvisioningSql, current: OwnerState, change: OwnerChange): Device {
  runSteps(sql, planOwnerChange(current, change));
  return deviceById(sql, current.deviceId);
}

function deviceById(sql: SqliteProvisioningSql, id: string): Device {
  const row = sql.devices.byId.get(id);
  if (row === undefined) throw new Error(`device ${id} vanished inside a transaction`);
  return toSqliteDevice(row);
}
