/** Runs the planned write steps (provisioning-plan.ts) as PostgreSQL statements, one executor per kind. */
import type pg from 'pg';
import type { CertificateRecord, WriteStep } from '../provisioning-plan.ts';
import { certificateConflict } from '../provisioning-rules.ts';
import type { NewAuditEntry } from '../provisioning-types.ts';
import { deviceConflict } from '../row-mapping.ts';
import { uniqueViolation } from './pg-pool.ts';
import * as sql from './postgres-provisioning-statements.ts';
import { insertDevice } from './postgres-statements.ts';

/** Runs the steps in order on a client inside a transaction, so a failing step undoes the earlier ones. */
export async function runSteps(client: pg.ClientBase, steps: readonly WriteStep[]): Promise<void> {
  for (const step of steps) await runStep(client, step);
}

async function runStep(client: pg.ClientBase, step: WriteStep): Promise<void> {
  switch (step.kind) {
    case 'insertDevice': {
      const { id, serial, hardwareModel, hardwareRevision, atMs } = step.device;
      const params = [id, serial, hardwareModel, hardwareRevision, null, '{}', null, null, new Date(atMs)];
      try {
        await client.query(insertDevice, params);
      } catch (error) {
        const constraint = uniqueViolation(error);
        if (constraint === undefined) throw error;
        throw deviceConflict(constraint === 'devices_pkey' ? 'id' : 'serial', { id, serial });
      }
      return;
    }
    case 'markProvisioned':
      await client.query(sql.markProvisioned, [step.serial, step.deviceId, new Date(step.atMs)]);
      return;
    case 'countClaimUse':
      await client.query(sql.countClaimUse, [step.batchId]);
      return;
    case 'insertCertificate':
      await insertCertificate(client, step.certificate);
      return;
    case 'insertToken':
      await client.query(sql.insertToken, [step.deviceId, step.tokenHash, new Date(step.atMs)]);
      return;
    case 'setOwner':
      await client.query(sql.setOwner, [step.deviceId, step.owner, new Date(step.atMs)]);
      return;
    case 'appendAudit':
      await appendAuditRow(client, step.entry);
      return;
  }
}

export async function insertCertificate(client: pg.ClientBase, cert: CertificateRecord): Promise<void> {
  const { serial, deviceId, fingerprint256, issuedAtMs, notAfterMs } = cert;
  const params = [serial, deviceId, fingerprint256, new Date(issuedAtMs), new Date(notAfterMs)];
  try {
    await client.query(sql.insertCertificate, params);
  } catch (error) {
    if (uniqueViolation(error) === 'certificates_pkey') throw certificateConflict(serial);
    throw error;
  }
}

export async function appendAuditRow(client: pg.ClientBase, entry: NewAuditEntry): Promise<void> {
  await client.query(sql.insertAudit, auditParams(entry));
}

/** The parameters of sql.insertAudit. */
export function auditParams(entry: NewAuditEntry): unknown[] {
  const { atMs, actor, action, target, source, details } = entry;
  return [new Date(atMs), actor, action, target, source, JSON.stringify(details)];
}
