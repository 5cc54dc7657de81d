/**
 * The provisioning decisions both stores share. Each store reads the rows under its own lock
 * (SQLite: an IMMEDIATE transaction; PostgreSQL: SELECT … FOR UPDATE on the batch) and hands them
 * here; nothing in this module does I/O, so a refusal is always decided before anything is written.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../infra/errors.ts';
import type { AuditOrigin, NewBatch, ProvisioningRequest } from './provisioning-types.ts';

/** The expected serial as completeProvisioning sees it. */
export interface ExpectedState {
  batchId: string;
  deviceId: string | null;
}

/** The batch as completeProvisioning sees it, read while holding the batch's lock. */
export interface ClaimState {
  hardwareModel: string;
  hardwareRevision: string;
  claimLimit: number;
  claimUses: number;
  /** ms since epoch */
  claimExpiresAtMs: number;
}

/** Used when a caller gives no origin for an owner change. */
export const defaultAuditOrigin: AuditOrigin = { actor: 'api', source: 'local' };

/**
 * Throws the refusal for a provisioning request, in the order the interface documents, or returns
 * the batch whose claim it may use. `details.reason` carries the machine code callers map.
 */
export function checkProvisioning(
  request: ProvisioningRequest,
  expected: ExpectedState | undefined,
  batch: ClaimState | undefined,
): ClaimState {
  const { serial, batchId } = request;
  if (expected === undefined) {
    throw new NotFoundError(`unknown serial ${serial}`, { serial, reason: 'unknown_serial' });
  }
  if (expected.batchId !== batchId || batch === undefined) {
    throw new ForbiddenError(`serial ${serial} is not in batch ${batchId}`, {
      serial,
      batchId,
      reason: 'wrong_batch',
    });
  }
  if (expected.deviceId !== null) {
    throw new ConflictError(`serial ${serial} is already provisioned`, {
      serial,
      reason: 'already_provisioned',
    });
  }
  if (batch.claimExpiresAtMs <= request.atMs) {
    throw new ForbiddenError(`the claim of batch ${batchId} has expired`, {
      batchId,
      reason: 'claim_expired',
    });
  }
  if (batch.claimUses >= batch.claimLimit) {
    throw new ForbiddenError(`the claim of batch ${batchId} is used up`, {
      batchId,
      reason: 'claim_exhausted',
    });
  }
  return batch;
}

/** A certificate serial recorded twice: the CA issued a duplicate, which must never be stored. */
export function certificateConflict(serial: string): ConflictError {
  return new ConflictError(`certificate ${serial} is already recorded`, { certificateSerial: serial });
}

/** Why a further certificate cannot be recorded for a device, or undefined when it can. */
export function certificateRefusal(
  deviceId: string,
  device: { revoked: boolean } | undefined,
): NotFoundError | ForbiddenError | undefined {
  if (device === undefined) return new NotFoundError(`device ${deviceId} not found`, { deviceId });
  if (device.revoked) {
    return new ForbiddenError(`device ${deviceId} is revoked`, { deviceId, reason: 'device_revoked' });
  }
  return undefined;
}

/** ValidationError for a batch that could never be stored consistently. */
export function validateNewBatch(batch: NewBatch): void {
  const problems: string[] = [];
  if (batch.serials.length === 0) problems.push('a batch needs at least one serial');
  if (batch.claimCodes.length !== batch.serials.length) problems.push('one claim code per serial');
  if (new Set(batch.serials).size !== batch.serials.length) problems.push('serials repeat');
  if (new Set(batch.claimCodes).size !== batch.claimCodes.length) problems.push('claim codes repeat');
  if (!Number.isSafeInteger(batch.claimLimit) || batch.claimLimit < 0) {
    problems.push('claimLimit must be a non-negative integer');
  }
  if (!Number.isFinite(batch.claimExpiresAt)) problems.push('claimExpiresAt must be ms since epoch');
  if (problems.length > 0) {
    throw new ValidationError(`invalid batch ${batch.id}: ${problems.join('; ')}`, {
      batchId: batch.id,
      problems,
    });
  }
}

/** What createBatch found already taken; a conflict unless everything is empty. */
export interface BatchCollisions {
  batchExists: boolean;
  serials: string[];
  claimCodes: string[];
}

export function batchConflict(batchId: string, taken: BatchCollisions): ConflictError | undefined {
  if (taken.batchExists) return new ConflictError(`batch ${batchId} already exists`, { batchId });
  if (taken.serials.length === 0 && taken.claimCodes.length === 0) return undefined;
  const serials = [...taken.serials].sort();
  const claimCodes = [...taken.claimCodes].sort();
  const named = serials.length > 0 ? `serials already known: ${serials.join(', ')}` : 'claim codes collide';
  return new ConflictError(`batch ${batchId}: ${named}`, { batchId, serials, claimCodes });
}

/** The current owner of a device, as the owner changes read it. */
export interface OwnerState {
  deviceId: string;
  owner: string | null;
}

/**
 * The device a claim code may be redeemed for by `owner`: ForbiddenError for a code no provisioned
 * device has, ConflictError when someone else owns the device. Redeeming again for the same owner
 * is allowed (a retried claim) and changes nothing.
 */
export function checkRedeem(found: OwnerState | undefined, owner: string): OwnerState {
  if (found === undefined) throw new ForbiddenError('unknown claim code', { reason: 'unknown_code' });
  if (found.owner !== null && found.owner !== owner) {
    throw new ConflictError(`device ${found.deviceId} already has an owner`, {
      deviceId: found.deviceId,
      reason: 'already_owned',
    });
  }
  return found;
}
