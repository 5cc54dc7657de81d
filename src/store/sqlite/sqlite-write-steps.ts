/** Runs the planned write steps (provisioning-plan.ts) as SQLite statements, one executor per kind. */
import Database from 'better-sqlite3';
import { certificateConflict } from '../provisioning-rules.ts';
import type { CertificateRecord, WriteStep } from '../provisioning-plan.ts';
import type { NewAuditEntry } from '../provisioning-types.ts';
import { asConflict } from './sqlite-errors.ts';
import type { SqliteProvisioningSql } from './sqlite-provisioning-statements.ts';

/** Runs the steps in order; call it inside a transaction so a failing step undoes the earlier ones. */
export function runSteps(sql: SqliteProvisioningSql, steps: readonly WriteStep[]): void {
  for (const step of steps) runStep(sql, step);
}

function runStep(sql: SqliteProvisioningSql, step: WriteStep): void {
  const statements = sql.provisioning;
  switch (step.kind) {
    case 'insertDevice': {
      const { atMs, ...device } = step.device;
      const unset = { firmwareVersion: null, tags: '{}', region: null, owner: null };
      try {
        sql.devices.insert.run({ ...device, ...unset, createdAt: atMs });
      } catch (error) {
        throw asConflict(error, device);
      }
      return;
    }
    case 'markProvisioned':
      statements.markProvisioned.run({ serial: step.serial, deviceId: step.deviceId, at: step.atMs });
      return;
    case 'countClaimUse':
      statements.countClaimUse.run(step.batchId);
      return;
    case 'insertCertificate':
      insertCertificate(sql, step.certificate);
      return;
    case 'insertToken':
      statements.insertToken.run({ deviceId: step.deviceId, tokenHash: step.tokenHash, at: step.atMs });
      return;
    case 'setOwner':
      statements.setOwner.run({ id: step.deviceId, owner: step.owner, at: step.atMs });
      return;
    case 'appendAudit':
      appendAuditRow(sql, step.entry);
      return;
  }
}

export function insertCertificate(sql: SqliteProvisioningSql, cert: CertificateRecord): void {
  const { issuedAtMs, notAfterMs, ...rest } = cert;
  try {
    sql.provisioning.insertCertificate.run({ ...rest, issuedAt: issuedAtMs, notAfter: notAfterMs });
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw certificateConflict(cert.serial);
    }
    throw error;
  }
}

export function appendAuditRow(sql: SqliteProvisioningSql, entry: NewAuditEntry): void {
  const { atMs, details, ...rest } = entry;
  sql.provisioning.insertAudit.run({ ...rest, at: atMs, details: JSON.stringify(details) });
}
