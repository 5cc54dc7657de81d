/**
 * The writes of a provisioning or owner change as typed steps, planned once for both stores: a
 * pure planner decides (refusing before anything is written) and each store runs the steps in
 * order inside its transaction with one executor per step kind (sqlite/ and postgres/
 * `*-write-steps.ts`), made exhaustive by the type system.
 */
import {
  checkProvisioning,
  type ClaimState,
  type ExpectedState,
  type OwnerState,
} from './provisioning-rules.ts';
import type { AuditOrigin, NewAuditEntry, ProvisioningRequest } from './provisioning-types.ts';

/** Times are ms since epoch. */
export type WriteStep =
  | {
      kind: 'insertDevice';
      device: { id: string; serial: string; hardwareModel: string; hardwareRevision: string; atMs: number };
    }
  | { kind: 'markProvisioned'; serial: string; deviceId: string; atMs: number }
  | { kind: 'countClaimUse'; batchId: string }
  | { kind: 'insertCertificate'; certificate: CertificateRecord }
  | { kind: 'insertToken'; deviceId: string; tokenHash: string; atMs: number }
  | { kind: 'setOwner'; deviceId: string; owner: string | null; atMs: number }
  | { kind: 'appendAudit'; entry: NewAuditEntry };

export interface CertificateRecord {
  serial: string;
  deviceId: string;
  fingerprint256: string;
  issuedAtMs: number;
  notAfterMs: number;
}

/**
 * The writes that complete a provisioning, given the serial and the batch's claim as read under
 * the batch's lock. Throws the refusal (provisioning-rules.ts) instead when the request is refused.
 */
export function planProvisioning(
  request: ProvisioningRequest,
  expected: ExpectedState | undefined,
  claim: ClaimState | undefined,
): WriteStep[] {
  const batch = checkProvisioning(request, expected, claim);
  const { deviceId, serial, atMs, credential } = request;
  const { hardwareModel, hardwareRevision } = batch;
  const credentialStep: WriteStep =
    credential.kind === 'certificate'
      ? {
          kind: 'insertCertificate',
          certificate: {
            serial: credential.certificateSerial,
            deviceId,
            fingerprint256: credential.fingerprint256,
            issuedAtMs: atMs,
            notAfterMs: credential.notAfter,
          },
        }
      : { kind: 'insertToken', deviceId, tokenHash: credential.tokenHash, atMs };
  return [
    { kind: 'insertDevice', device: { id: deviceId, serial, hardwareModel, hardwareRevision, atMs } },
    { kind: 'markProvisioned', serial, deviceId, atMs },
    { kind: 'countClaimUse', batchId: request.batchId },
    credentialStep,
    { kind: 'appendAudit', entry: provisionedAudit(request) },
  ];
}

function provisionedAudit(request: ProvisioningRequest): NewAuditEntry {
  return {
    atMs: request.atMs,
    actor: request.actor,
    source: request.source,
    action: 'device.provisioned',
    target: request.deviceId,
    details: { batchId: request.batchId, serial: request.serial, credential: request.credential.kind },
  };
}

export interface OwnerChange {
  next: string | null;
  /** By claim code (`owner.claimed`) rather than set by an operator. */
  byClaim: boolean;
  atMs: number;
  origin: AuditOrigin;
}

/** The owner update and its audit entry; nothing when the owner stays the same. */
export function planOwnerChange(current: OwnerState, change: OwnerChange): WriteStep[] {
  const { next } = change;
  if (current.owner === next) return [];
  const action = change.byClaim ? 'owner.claimed' : next === null ? 'owner.released' : 'owner.transferred';
  const entry: NewAuditEntry = {
    atMs: change.atMs,
    ...change.origin,
    action,
    target: current.deviceId,
    details: { owner: next, previousOwner: current.owner },
  };
  return [
    { kind: 'setOwner', deviceId: current.deviceId, owner: next, atMs: change.atMs },
    { kind: 'appendAudit', entry },
  ];
}
