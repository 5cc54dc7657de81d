/**
 * The provisioning store on the same better-sqlite3 handle as the device store. Reads are single
 * statements; writes of more than one row run in one IMMEDIATE transaction
 * (sqlite-provisioning-transactions.ts), which takes the file's write lock before the first read.
 */
import type Database from 'better-sqlite3';
import type { Device } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import { buildAuditQuery, toAuditPage, type AuditDialect, type AuditFilter } from '../audit-query.ts';
import type { Page } from '../types.ts';
import { checkRedeem, defaultAuditOrigin, validateNewBatch, type OwnerState } from '../provisioning-rules.ts';
import {
  auditFromRow,
  batchFromRow,
  certificateFromRow,
  expectedFromRow,
  revokedFromRow,
  type ProvisioningDecoders,
  type RevokedCertificate,
} from '../provisioning-rows.ts';
import type {
  AuditEntry,
  AuditOrigin,
  Batch,
  ExpectedDevice,
  IssuedCertificate,
  NewAuditEntry,
  NewBatch,
  ProvisioningRequest,
  ProvisioningStore,
} from '../provisioning-types.ts';
import { runSync } from './sqlite-errors.ts';
import {
  prepareProvisioningStatements,
  type OwnerRow,
  type SqliteAuditRow,
  type SqliteProvisioningSql,
} from './sqlite-provisioning-statements.ts';
import * as tx from './sqlite-provisioning-transactions.ts';
import { appendAuditRow } from './sqlite-write-steps.ts';
import { prepareStatements } from './sqlite-statements.ts';

const sameMs = (value: number): number => value;
const decoders: ProvisioningDecoders<number, string> = {
  timeMs: sameMs,
  // Only the store writes the column, always from a Record<string, unknown>.
  json: (value) => JSON.parse(value) as Record<string, unknown>,
};

const ownerState = (row: OwnerRow | undefined): OwnerState | undefined =>
  row && { deviceId: row.device_id, owner: row.owner };

export class SqliteProvisioningStore implements ProvisioningStore {
  readonly #db: Database.Database;
  readonly #sql: SqliteProvisioningSql;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = { devices: prepareStatements(db), provisioning: prepareProvisioningStatements(db) };
  }

  createBatch(batch: NewBatch, atMs: number): Promise<Batch> {
    return this.#write(() => {
      validateNewBatch(batch);
      tx.insertBatch(this.#sql, batch, atMs);
      return this.#batch(batch.id) ?? fail(`batch ${batch.id} vanished inside its transaction`);
    });
  }

  getBatch(id: string): Promise<Batch | undefined> {
    return this.#run(() => this.#batch(id));
  }

  getExpectedDevice(serial: string): Promise<ExpectedDevice | undefined> {
    return this.#run(() => {
      const row = this.#sql.provisioning.expectedBySerial.get(serial);
      return row && expectedFromRow(row, sameMs);
    });
  }

  completeProvisioning(request: ProvisioningRequest): Promise<Device> {
    return this.#write(() => tx.provision(this.#sql, request));
  }

  recordCertificate(
    cert: { serial: string; deviceId: string; fingerprint256: string; notAfter: number },
    atMs: number,
  ): Promise<void> {
    const { notAfter, ...rest } = cert;
    return this.#write(() =>
      tx.recordCertificate(this.#sql, { ...rest, issuedAtMs: atMs, notAfterMs: notAfter }),
    );
  }

  getCertificate(serial: string): Promise<IssuedCertificate | undefined> {
    return this.#run(() => {
      const row = this.#sql.provisioning.certificateBySerial.get(serial);
      return row && certificateFromRow(row, sameMs);
    });
  }

  listCertificates(deviceId: string): Promise<IssuedCertificate[]> {
    return this.#run(() =>
      this.#sql.provisioning.certificatesByDevice.all(deviceId).map((row) => certificateFromRow(row, sameMs)),
    );
  }

  revokeDevice(deviceId: string, reason: string, atMs: number): Promise<string[]> {
    return this.#write(() => tx.revoke(this.#sql, deviceId, reason, atMs));
  }

  listRevokedCertificates(): Promise<RevokedCertificate[]> {
    return this.#run(() =>
      this.#sql.provisioning.revokedCertificates.all().map((row) => revokedFromRow(row, sameMs)),
    );
  }

  listRevokedDeviceIds(): Promise<string[]> {
    return this.#run(() => this.#sql.provisioning.revokedDeviceIds.all().map((row) => row.id));
  }

  isDeviceRevoked(deviceId: string): Promise<boolean> {
    return this.#run(
      () => (this.#sql.provisioning.deviceRevokedAt.get(deviceId)?.revoked_at ?? null) !== null,
    );
  }

  getTokenHash(deviceId: string): Promise<string | undefined> {
    return this.#run(() => this.#sql.provisioning.activeTokenHash.get(deviceId)?.token_hash);
  }

  redeemClaimCode(
    code: string,
    owner: string,
    atMs: number,
    origin: AuditOrigin = defaultAuditOrigin,
  ): Promise<Device> {
    return this.#write(() => {
      const current = checkRedeem(ownerState(this.#sql.provisioning.ownerByClaimCode.get(code)), owner);
      return tx.changeOwner(this.#sql, current, { next: owner, byClaim: true, atMs, origin });
    });
  }

  setOwner(
    deviceId: string,
    owner: string | null,
    atMs: number,
    origin: AuditOrigin = defaultAuditOrigin,
  ): Promise<Device> {
    return this.#write(() => {
      const current = ownerState(this.#sql.provisioning.ownerByDevice.get(deviceId));
      if (current === undefined) throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
      return tx.changeOwner(this.#sql, current, { next: owner, byClaim: false, atMs, origin });
    });
  }

  getClaimCode(deviceId: string): Promise<string | undefined> {
    return this.#run(() => this.#sql.provisioning.claimCodeByDevice.get(deviceId)?.claim_code);
  }

  appendAudit(entry: NewAuditEntry): Promise<void> {
    return this.#run(() => appendAuditRow(this.#sql, entry));
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    return (await this.pageAudit(filter)).items;
  }

  pageAudit(filter: AuditFilter): Promise<Page<AuditEntry>> {
    return this.#run(() => {
      const query = buildAuditQuery(filter, sqliteAuditDialect);
      const rows = this.#db.prepare<unknown[], SqliteAuditRow>(query.sql).all(...query.params);
      return toAuditPage(
        rows.map((row) => auditFromRow(row, decoders)),
        filter.limit,
      );
    });
  }

  #batch(id: string): Batch | undefined {
    const row = this.#sql.provisioning.batchById.get(id);
    return row && batchFromRow(row, sameMs);
  }

  #run<T>(work: () => T): Promise<T> {
    return runSync(this.#db, work);
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }
}

function fail(message: string): never {
  throw new Error(message);
}

const sqliteAuditDialect: AuditDialect = { placeholder: () => '?', time: (ms) => ms };
