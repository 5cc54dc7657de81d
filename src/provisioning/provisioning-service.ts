/**
 * Zero-touch provisioning and certificate renewal, shared by the MQTT gateway and the device
 * HTTPS API. Every refusal is answered with a code and a reason the device can log, and audited;
 * nothing is half-registered because the store records a provisioning in one transaction.
 */
import type { Logger } from 'pino';
import {
  provisionRequestSchema,
  type ProvisionRequest,
  type ProvisionResponse,
  type RenewRequest,
} from '../contracts/provisioning-messages.ts';
import type { Clock } from '../infra/clock.ts';
import { isoTime } from '../infra/clock.ts';
import type { FleetPki } from '../pki/fleet-pki.ts';
import { parseDeviceCsr } from '../pki/csr.ts';
import { issueDeviceCertFromCsr, type IssuedCert } from '../pki/device-certs.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { ClaimIdentity, DeviceIdentity } from '../gateway/session-identity.ts';
import { checkCsrSubject, refusal, refusalFromStoreError, type Refusal } from './provision-rules.ts';
import { hashToken, newDeviceToken } from './secrets.ts';

export interface ProvisioningServiceDeps {
  store: ProvisioningStore;
  pki: FleetPki;
  clock: Clock;
  logger: Logger;
  settings: {
    /** Lifetime of device certificates issued at provisioning and renewal. */
    deviceCertValidityDays: number;
    /** Where devices connect once provisioned (goes into the response); known once the gateway listens. */
    mqttUrl: () => string;
  };
}

export interface RequestContext {
  atMs: number;
  /** Remote address, for the audit log. */
  source: string;
}

export interface ProvisioningService {
  provision(claim: ClaimIdentity, body: unknown, context: RequestContext): Promise<ProvisionResponse>;
  renew(device: DeviceIdentity, request: RenewRequest, context: RequestContext): Promise<ProvisionResponse>;
}

type Issued = { ok: true; cert: IssuedCert } | { ok: false; refusal: Refusal };

export function createProvisioningService(deps: ProvisioningServiceDeps): ProvisioningService {
  const { store, pki, logger, settings } = deps;

  async function issueFromCsr(
    deviceId: string,
    serial: string,
    csrPem: string,
    nowMs: number,
  ): Promise<Issued> {
    const parsed = await parseDeviceCsr(csrPem);
    if (!parsed.ok) return { ok: false, refusal: refusal(parsed.reason, parsed.message) };
    const mismatch = checkCsrSubject(serial, parsed.csr.subject);
    if (mismatch) return { ok: false, refusal: mismatch };
    const cert = await issueDeviceCertFromCsr(
      pki.issuingCa,
      { deviceId, serial, publicKey: parsed.csr.publicKey, validityDays: settings.deviceCertValidityDays },
      nowMs,
    );
    return { ok: true, cert };
  }

  async function refuse(
    actor: string,
    target: string,
    context: RequestContext,
    answer: Refusal,
  ): Promise<Refusal> {
    logger.warn(
      { actor, target, code: answer.code, reason: answer.message, source: context.source },
      'provisioning refused',
    );
    await store.appendAudit({
      atMs: context.atMs,
      actor,
      action: 'provisioning.refused',
      target,
      source: context.source,
      details: { code: answer.code, message: answer.message },
    });
    return answer;
  }

  async function accept(
    claim: ClaimIdentity,
    request: ProvisionRequest,
    context: RequestContext,
  ): Promise<ProvisionResponse> {
    const actor = `claim:${claim.batchId}`;
    const deviceId = request.serial; // batches only accept serials that are valid device ids
    let credential: Parameters<ProvisioningStore['completeProvisioning']>[0]['credential'];
    let delivered: { certificatePem?: string; token?: string; notAfter?: string };
    if (request.credential === 'token') {
      const token = newDeviceToken();
      credential = { kind: 'token', tokenHash: hashToken(token) };
      delivered = { token };
    } else {
      if (request.csrPem === undefined)
        return refuse(
          actor,
          request.serial,
          context,
          refusal('malformed_request', 'csrPem is required for a certificate'),
        );
      const issued = await issueFromCsr(deviceId, request.serial, request.csrPem, context.atMs);
      if (!issued.ok) return refuse(actor, request.serial, context, issued.refusal);
      const { cert } = issued;
      credential = {
        kind: 'certificate',
        certificateSerial: cert.serialHex,
        fingerprint256: cert.fingerprint256,
        notAfter: cert.notAfter.getTime(),
      };
      delivered = {
        certificatePem: `${cert.certPem.trimEnd()}\n${pki.issuingCertPem.trimEnd()}\n`,
        notAfter: cert.notAfter.toISOString(),
      };
    }
    try {
      await store.completeProvisioning({
        batchId: claim.batchId,
        serial: request.serial,
        deviceId,
        credential,
        atMs: context.atMs,
        actor,
        source: context.source,
      });
    } catch (error) {
      const answer = refusalFromStoreError(error);
      if (!answer) throw error;
      return refuse(actor, request.serial, context, answer);
    }
    logger.info({ deviceId, batchId: claim.batchId, credential: request.credential }, 'device provisioned');
    return {
      status: 'accepted',
      deviceId,
      ...delivered,
      caChainPem: pki.chainPem,
      mqttUrl: settings.mqttUrl(),
    };
  }

  return {
    async provision(claim, body, context) {
      const actor = `claim:${claim.batchId}`;
      let json: unknown = body;
      if (Buffer.isBuffer(body)) {
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          return refuse(actor, claim.serial, context, refusal('malformed_request', 'request is not JSON'));
        }
      }
      const parsed = provisionRequestSchema.safeParse(json);
      if (!parsed.success) {
        const detail = parsed.error.issues
          .map((i) => `${i.path.map(String).join('.') || '(request)'}: ${i.message}`)
          .join('; ');
        return refuse(actor, claim.serial, context, refusal('malformed_request', detail));
      }
      if (parsed.data.serial !== claim.serial) {
        return refuse(
          actor,
          claim.serial,
          context,
          refusal(
            'csr_subject_mismatch',
            `the request names serial ${parsed.data.serial} but the session is ${claim.serial}`,
          ),
        );
      }
      try {
        return await accept(claim, parsed.data, context);
      } catch (error) {
        logger.error({ err: error, serial: claim.serial }, 'provisioning failed');
        return refusal('internal_error', 'the server could not complete provisioning; retry later');
      }
    },

    async renew(device, request, context) {
      const actor = `device:${device.deviceId}`;
      try {
        const issued = await issueFromCsr(device.deviceId, device.serial, request.csrPem, context.atMs);
        if (!issued.ok) return await refuse(actor, device.deviceId, context, issued.refusal);
        const { cert } = issued;
        await store.recordCertificate(
          {
            serial: cert.serialHex,
            deviceId: device.deviceId,
            fingerprint256: cert.fingerprint256,
            notAfter: cert.notAfter.getTime(),
          },
          context.atMs,
        );
        await store.appendAudit({
          atMs: context.atMs,
          actor,
          action: 'certificate.renewed',
          target: device.deviceId,
          source: context.source,
          details: {
            certificateSerial: cert.serialHex,
            previous: device.certificateSerial,
            notAfter: isoTime(cert.notAfter.getTime()),
          },
        });
        return {
          status: 'accepted',
          deviceId: device.deviceId,
          certificatePem: `${cert.certPem.trimEnd()}\n${pki.issuingCertPem.trimEnd()}\n`,
          notAfter: cert.notAfter.toISOString(),
          caChainPem: pki.chainPem,
          mqttUrl: settings.mqttUrl(),
        };
      } catch (error) {
        logger.error({ err: error, deviceId: device.deviceId }, 'renewal failed');
        return refusal('internal_error', 'the server could not renew the certificate; retry later');
      }
    },
  };
}
