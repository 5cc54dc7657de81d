/**
 * The PostgreSQL provisioning store's multi-statement writes, each run by the store inside one
 * transaction (PgSession.transaction). Decisions read their rows with a lock first, so replicas
 * sharing the database cannot both pass a check that only one of them may pass.
 */
import type pg from 'pg';
import type { Device } from '../../contracts/device.ts';
import { ConflictError, NotFoundError } from '../../infra/errors.ts';
import {
  planOwnerChange,
  planProvisioning,
  type CertificateRecord,
  type OwnerChange,
} from '../provisioning-plan.ts';
import { batchConflict, certificateRefusal, type OwnerState } from '../provisioning-rules.ts';
import { claimFromRow, type ClaimRow, type ExpectedRow } from '../provisioning-rows.ts';
import type { NewBatch, ProvisioningRequest } from '../provisioning-types.ts';
import { uniqueViolation } from './pg-pool.ts';
import * as sql from './postgres-provisioning-statements.ts';
import { selectDevice, toPgDevice, type PgDeviceRow } from './postgres-statements.ts';
import { insertCertificate, runSteps } from './postgres-write-steps.ts';

const dateMs = (value: Date) => value.getTime();

/** ConflictError naming what is taken; otherwise inserts the batch and its expected serials. */
export async function insertBatch(client: pg.ClientBase, batch: NewBatch, atMs: number): Promise<void> {
  const exists = await client.query<{ found: boolean }>(sql.batchExists, [batch.id]);
  const serials = await client.query<{ serial: string }>(sql.selectTakenSerials, [batch.serials]);
  const codes = await client.query<{ claim_code: string }>(sql.selectTakenClaimCodes, [batch.claimCodes]);
  const conflict = batchConflict(batch.id, {
    batchExists: exists.rows[0]?.found === true,
    serials: serials.rows.map((row) => row.serial),
    claimCodes: codes.rows.map((row) => row.claim_code),
  });
  if (conflict !== undefined) throw conflict;
  try {
    await client.query(sql.insertBatch, [
      batch.id,
      batch.hardwareModel,
      batch.hardwareRevision,
      batch.claimLimit,
      new Date(batch.claimExpiresAt),
      batch.claimCertificateSerial,
      new Date(atMs),
      batch.createdBy,
    ]);
    await client.query(sql.insertExpected, [batch.id, batch.serials, batch.claimCodes]);
  } catch (error) {
    // Only a batch committed by another replica since the checks above gets here.
    if (uniqueViolation(error) === undefined) throw error;
    throw new ConflictError(`batch ${batch.id} collides with a batch created at the same time`, {
      batchId: batch.id,
    });
  }
}

export async function provision(client: pg.ClientBase, request: ProvisioningRequest): Promise<Device> {
  // Lock first, read the serial after: the read then sees every provisioning committed before ours.
  const claim = (await client.query<ClaimRow<Date>>(sql.lockClaim, [request.batchId])).rows[0];
  const expected = (await client.query<ExpectedRow<Date>>(sql.selectExpected, [request.serial])).rows[0];
  const steps = planProvisioning(
    request,
    expected && { batchId: expected.batch_id, deviceId: expected.device_id },
    claim && claimFromRow(claim, dateMs),
  );
  await runSteps(client, steps);
  return deviceById(client, request.deviceId);
}

export async function recordCertificate(client: pg.ClientBase, cert: CertificateRecord): Promise<void> {
  const device = (await client.query<{ revoked_at: Date | null }>(sql.shareDeviceRevokedAt, [cert.deviceId]))
    .rows[0];
  const refusal = certificateRefusal(cert.deviceId, device && { revoked: device.revoked_at !== null });
  if (refusal !== undefined) throw refusal;
  await insertCertificate(client, cert);
}

/** Marks the device and all its credentials revoked; returns the certificate serials revoked now. */
export async function revoke(
  client: pg.ClientBase,
  deviceId: string,
  reason: string,
  atMs: number,
): Promise<string[]> {
  const at = new Date(atMs);
  // Updating the device row first takes its lock, which recordCertificate waits on.
  if ((await client.query(sql.revokeDevice, [deviceId, at])).rowCount === 0) {
    throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
  }
  const revoked = await client.query<{ serial: string }>(sql.revokeCertificates, [deviceId, at, reason]);
  await client.query(sql.revokeToken, [deviceId, at]);
  return revoked.rows.map((row) => row.serial).sort();
}

/** The owner of the device found by `lockingQuery` ($1 = `key`), locked until the transaction ends. */
export async function lockOwner(
  client: pg.ClientBase,
  lockingQuery: string,
  key: string,
): Promise<OwnerState | undefined> {
  const row = (await client.query<{ device_id: string; owner: string | null }>(lockingQuery, [key])).rows[0];
  return row && { deviceId: row.device_id, owner: row.owner };
}

/** Applies an owner change to the owner locked by lockOwner in the same transaction. */
export async function changeOwner(
  client: pg.ClientBase,
  current: OwnerState,
  change: OwnerChange,
): Promise<Device> {
  await runSteps(client, planOwnerChange(current, change));
  return deviceById(client, current.deviceId);
}

async function deviceById(client: pg.ClientBase, id: string): Promise<Device> {
  const row = (await client.query<PgDeviceRow>(selectDevice, [id])).rows[0];
  if (row === undefined) throw new Error(`device ${id} vanished inside a transaction`);
  return toPgDevice(row);
}
