/**
 * Factory integration: register a batch of serials with its claim credential, and sign CSRs of
 * devices whose key is generated on the line (or in an HSM) so they leave the factory with their
 * final certificate.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import type { Clock } from '../infra/clock.ts';
import { ValidationError } from '../infra/errors.ts';
import type { FleetPki } from '../pki/fleet-pki.ts';
import { issueClaimCert } from '../pki/device-certs.ts';
import type { Batch, ProvisioningStore } from '../store/provisioning-types.ts';
import type { ClaimIdentity } from '../gateway/session-identity.ts';
import type { ProvisioningService } from './provisioning-service.ts';
import { newBatchId, newClaimCode } from './secrets.ts';
import type { ProvisionResponse } from '../contracts/provisioning-messages.ts';
import { parseDeviceCsr } from '../pki/csr.ts';

export const MAX_BATCH_SERIALS = 100_000;

export const createBatchSchema = z.strictObject({
  serials: z
    .array(
      z
        .string()
        .regex(
          DEVICE_ID_PATTERN,
          'serials are 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit',
        ),
    )
    .min(1)
    .max(MAX_BATCH_SERIALS)
    .refine((serials) => new Set(serials).size === serials.length, 'serials must be unique'),
  hardwareModel: z.string().min(1).max(64),
  hardwareRevision: z.string().min(1).max(32),
  /** Devices that may provision with the claim credential; defaults to the number of serials. */
  claimLimit: z.number().int().min(1).optional(),
  /** Lifetime of the claim credential. */
  claimValidityDays: z.number().int().min(1).max(3650).default(90),
});
export type CreateBatchInput = z.infer<typeof createBatchSchema>;

export interface BatchCredential {
  batch: Batch;
  claim: { certificatePem: string; keyPem: string };
  caChainPem: string;
  devices: Array<{ serial: string; deviceId: string; claimCode: string }>;
  /** Where devices of the batch go on first boot. */
  endpoints: DeviceEndpoints;
}

export interface DeviceEndpoints {
  mqttUrl: string;
  /** The device HTTPS API base URL (provisioning over HTTPS). */
  httpsUrl: string;
}

export interface FactoryServiceDeps {
  store: ProvisioningStore;
  pki: FleetPki;
  clock: Clock;
  logger: Logger;
  provisioning: ProvisioningService;
  /** Known once the listeners are up. */
  endpoints: () => DeviceEndpoints;
}

export interface FactoryService {
  createBatch(input: CreateBatchInput, context: { actor: string; source: string }): Promise<BatchCredential>;
  /** Signs a CSR made on the line; the serial is the one the CSR subject names. */
  signCsr(
    batchId: string,
    csrPem: string,
    context: { actor: string; source: string },
  ): Promise<ProvisionResponse>;
}

export function createFactoryService(deps: FactoryServiceDeps): FactoryService {
  const { store, pki, clock, logger } = deps;
  return {
    async createBatch(input, context) {
      const atMs = clock.now();
      const batchId = newBatchId();
      const claim = await issueClaimCert(
        pki.issuingCa,
        { batchId, validityDays: input.claimValidityDays },
        atMs,
      );
      const devices = input.serials.map((serial) => ({
        serial,
        deviceId: serial,
        claimCode: newClaimCode(),
      }));
      const batch = await store.createBatch(
        {
          id: batchId,
          hardwareModel: input.hardwareModel,
          hardwareRevision: input.hardwareRevision,
          serials: input.serials,
          claimCodes: devices.map((d) => d.claimCode),
          claimLimit: input.claimLimit ?? input.serials.length,
          claimExpiresAt: claim.notAfter.getTime(),
          claimCertificateSerial: claim.serialHex,
          createdBy: context.actor,
        },
        atMs,
      );
      await store.appendAudit({
        atMs,
        actor: context.actor,
        action: 'batch.created',
        target: batchId,
        source: context.source,
        details: {
          serials: input.serials.length,
          hardwareModel: input.hardwareModel,
          claimLimit: batch.claimLimit,
          claimExpiresAt: batch.claimExpiresAt,
        },
      });
      logger.info({ batchId, serials: input.serials.length }, 'factory batch registered');
      return {
        batch,
        claim: {
          certificatePem: `${claim.certPem.trimEnd()}\n${pki.issuingCertPem.trimEnd()}\n`,
          keyPem: claim.keyPem,
        },
        caChainPem: pki.chainPem,
        devices,
        endpoints: deps.endpoints(),
      };
    },

    async signCsr(batchId, csrPem, context) {
      const parsed = await parseDeviceCsr(csrPem);
      if (!parsed.ok) return { status: 'rejected', code: parsed.reason, message: parsed.message };
      const serial = parsed.csr.subject.serialNumber ?? parsed.csr.subject.commonName;
      if (serial === undefined)
        throw new ValidationError('the CSR subject must name the serial in serialNumber or CN');
      const batch = await store.getBatch(batchId);
      if (!batch)
        return { status: 'rejected', code: 'wrong_batch', message: `batch ${batchId} does not exist` };
      // The same path as zero-touch provisioning, as if the batch's claim credential were used
      // on the line: same checks, same single transaction, same audit.
      const claim: ClaimIdentity = { batchId, serial, certificateSerial: batch.claimCertificateSerial };
      return deps.provisioning.provision(
        claim,
        { serial, csrPem },
        { atMs: clock.now(), source: `${context.source} (factory: ${context.actor})` },
      );
    },
  };
}
