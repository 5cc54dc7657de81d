/**
 * The provisioning store on the same pg.Pool (PgSession) as the device store. Reads are single
 * statements; writes of more than one row run in one transaction
 * (postgres-provisioning-transactions.ts) that locks the rows its decision depends on.
 */
import type pg from 'pg';
import type { Device } from '../../contracts/device.ts';
import { NotFoundError } from '../../infra/errors.ts';
import { buildAuditQuery, toAuditPage, type AuditDialect, type AuditFilter } from '../audit-query.ts';
import type { Page } from '../types.ts';
import { checkRedeem, defaultAuditOrigin, validateNewBatch } from '../provisioning-rules.ts';
import {
  auditFromRow,
  batchFromRow,
  certificateFromRow,
  expectedFromRow,
  revokedFromRow,
  type AuditRow,
  type BatchRow,
  type CertificateRow,
  type ExpectedRow,
  type ProvisioningDecoders,
  type RevokedCertificate,
  type RevokedRow,
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
import type { PgSession } from './pg-session.ts';
import * as sql from './postgres-provisioning-statements.ts';
import * as tx from './postgres-provisioning-transactions.ts';
import { auditParams } from './postgres-write-steps.ts';

const dateMs = (value: Date): number => value.getTime();
const decoders: ProvisioningDecoders<Date, Record<string, unknown>> = {
  timeMs: dateMs,
  json: (value) => value,
};

export class PostgresProvisioningStore implements ProvisioningStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createBatch(batch: NewBatch, atMs: number): Promise<Batch> {
    validateNewBatch(batch);
    return this.#session.transaction(async (client) => {
      await tx.insertBatch(client, batch, atMs);
      const row = await this.#one<BatchRow<Date>>(sql.selectBatchById, batch.id, client);
      if (row === undefined) throw new Error(`batch ${batch.id} vanished inside its transaction`);
      return batchFromRow(row, dateMs);
    });
  }

  async getBatch(id: string): Promise<Batch | undefined> {
    const row = await this.#one<BatchRow<Date>>(sql.selectBatchById, id);
    return row && batchFromRow(row, dateMs);
  }

  async getExpectedDevice(serial: string): Promise<ExpectedDevice | undefined> {
    const row = await this.#one<ExpectedRow<Date>>(sql.selectExpected, serial);
    return row && expectedFromRow(row, dateMs);
  }

  completeProvisioning(request: ProvisioningRequest): Promise<Device> {
    return this.#session.transaction((client) => tx.provision(client, request));
  }

  recordCertificate(
    cert: { serial: string; deviceId: string; fingerprint256: string; notAfter: number },
    atMs: number,
  ): Promise<void> {
    const { notAfter, ...rest } = cert;
    const record = { ...rest, issuedAtMs: atMs, notAfterMs: notAfter };
    return this.#session.transaction((client) => tx.recordCertificate(client, record));
  }

  async getCertificate(serial: string): Promise<IssuedCertificate | undefined> {
    const row = await this.#one<CertificateRow<Date>>(sql.selectCertificate, serial);
    return row && certificateFromRow(row, dateMs);
  }

  async listCertificates(deviceId: string): Promise<IssuedCertificate[]> {
    const result = await this.#session.query<CertificateRow<Date>>(sql.selectDeviceCertificates, [deviceId]);
    return result.rows.map((row) => certificateFromRow(row, dateMs));
  }

  revokeDevice(deviceId: string, reason: string, atMs: number): Promise<string[]> {
    return this.#session.transaction((client) => tx.revoke(client, deviceId, reason, atMs));
  }

  async listRevokedCertificates(): Promise<RevokedCertificate[]> {
    const result = await this.#session.query<RevokedRow<Date>>(sql.selectRevokedCertificates, []);
    return result.rows.map((row) => revokedFromRow(row, dateMs));
  }

  async listRevokedDeviceIds(): Promise<string[]> {
    const result = await this.#session.query<{ id: string }>(sql.selectRevokedDeviceIds, []);
    return result.rows.map((row) => row.id);
  }

  async isDeviceRevoked(deviceId: string): Promise<boolean> {
    const row = await this.#one<{ revoked_at: Date | null }>(sql.selectDeviceRevokedAt, deviceId);
    return (row?.revoked_at ?? null) !== null;
  }

  async getTokenHash(deviceId: string): Promise<string | undefined> {
    return (await this.#one<{ token_hash: string }>(sql.selectActiveTokenHash, deviceId))?.token_hash;
  }

  redeemClaimCode(
    code: string,
    owner: string,
    atMs: number,
    origin: AuditOrigin = defaultAuditOrigin,
  ): Promise<Device> {
    return this.#session.transaction(async (client) => {
      const current = checkRedeem(await tx.lockOwner(client, sql.lockOwnerByClaimCode, code), owner);
      return tx.changeOwner(client, current, { next: owner, byClaim: true, atMs, origin });
    });
  }

  setOwner(
    deviceId: string,
    owner: string | null,
    atMs: number,
    origin: AuditOrigin = defaultAuditOrigin,
  ): Promise<Device> {
    return this.#session.transaction(async (client) => {
      const current = await tx.lockOwner(client, sql.lockOwnerByDevice, deviceId);
      if (current === undefined) throw new NotFoundError(`device ${deviceId} not found`, { deviceId });
      return tx.changeOwner(client, current, { next: owner, byClaim: false, atMs, origin });
    });
  }

  async getClaimCode(deviceId: string): Promise<string | undefined> {
    return (await this.#one<{ claim_code: string }>(sql.selectClaimCode, deviceId))?.claim_code;
  }

  async appendAudit(entry: NewAuditEntry): Promise<void> {
    await this.#session.query(sql.insertAudit, auditParams(entry));
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    return (await this.pageAudit(filter)).items;
  }

  async pageAudit(filter: AuditFilter): Promise<Page<AuditEntry>> {
    const query = buildAuditQuery(filter, postgresAuditDialect);
    const result = await this.#session.query<AuditRow<Date, Record<string, unknown>>>(
      query.sql,
      query.params,
    );
    return toAuditPage(
      result.rows.map((row) => auditFromRow(row, decoders)),
      filter.limit,
    );
  }

  /** The first row of a one-parameter query, on `client` inside a transaction or on the pool. */
  async #one<R extends pg.QueryResultRow>(
    text: string,
    key: string,
    client?: pg.ClientBase,
  ): Promise<R | undefined> {
    const result = client ? await client.query<R>(text, [key]) : await this.#session.query<R>(text, [key]);
    return result.rows[0];
  }
}

const postgresAuditDialect: AuditDialect = {
  placeholder: (position) => `$${position}`,
  time: (ms) => new Date(ms).toISOString(),
};
