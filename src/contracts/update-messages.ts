/**
 * Schemas of the firmware-update messages between the cloud and a device: the single source of
 * truth for the server (deployments), the agent (update client) and docs/architecture.md.
 *
 *   fl/d/{id}/update/notify   cloud → device, QoS 1   UpdateNotify  (push)
 *   GET  /device/v1/update    device HTTPS            UpdateNotify  (pull; same payload)
 *   fl/d/{id}/update/status   device → cloud, QoS 1   UpdateStatus
 *   POST /device/v1/update/status                     UpdateStatus  (same payload)
 *
 * The offer only names a TUF target; everything the device trusts (hash, length, version,
 * hardware, deltas) comes from the verified TUF metadata, never from the offer.
 */
import { z } from 'zod';
import { maintenanceWindowSchema } from './maintenance-window.ts';

/** Target names in the TUF repository: flat file names (see signing/tuf/target-custom.ts). */
const targetName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a TUF target name');

/** An update the server wants this device to install. */
export const updateOfferSchema = z.strictObject({
  /** Identifies this assignment (a manual deployment or a rollout); echoed in every status. */
  deploymentId: z.string().min(1).max(128),
  /** Informational; the device takes the version from the signed target. */
  version: z.string().min(1).max(64),
  /** TUF target name of the full image, e.g. `tracker-2_2.4.1.img`. */
  target: targetName,
  /** Install as soon as downloaded; false = download now, install when told (or when the lock clears). */
  installNow: z.boolean(),
  /** Mandatory releases ignore the device's update lock after `force`. */
  force: z.boolean(),
  /**
   * Install only while this maintenance window is open (download at once). Absent or null: any
   * time. The server omits it when there is none, so devices that predate it keep working.
   */
  installWindow: maintenanceWindowSchema.nullable().optional(),
});
export type UpdateOffer = z.infer<typeof updateOfferSchema>;

/** `update/notify` and the body of `GET /device/v1/update`: the current offer, or null (none/cancelled). */
export const updateNotifySchema = z.strictObject({
  offer: updateOfferSchema.nullable(),
});
export type UpdateNotify = z.infer<typeof updateNotifySchema>;

export const updateStates = [
  'downloading',
  'downloaded',
  'installing',
  'rebooting',
  'verifying',
  'success',
  'failed',
  'rolled-back',
] as const;
export type UpdateState = (typeof updateStates)[number];

/** Final states: the device will send nothing more for this deployment. */
export const finalUpdateStates: readonly UpdateState[] = ['success', 'failed', 'rolled-back'];

/** Why an update failed or was rolled back; `detail` carries the human-readable text. */
export const updateFailureReasons = [
  'metadata_invalid', // TUF chain did not verify (bad signature, threshold, mix-and-match)
  'metadata_expired', // freeze attack or stale repository
  'metadata_rollback', // a metadata version lower than one already trusted
  'unknown_target', // the offered target is not in the signed targets
  'wrong_hardware', // target is for another model/revision
  'downgrade_refused', // version not above installed and no signed downgrade policy
  'below_security_floor', // version below the anti-rollback floor (minVersion)
  'download_failed', // transport failed after retries
  'truncated_download', // fewer bytes than the signed length
  'hash_mismatch', // tampered image or patch
  'signature_invalid', // minisign signature did not verify
  'wrong_base', // delta patch for another base image
  'patch_failed', // bspatch failed
  'no_space', // slot too small
  'install_failed', // writing the inactive slot failed
  'trial_boot_failed', // the new slot did not boot; bootloader fell back
  'health_check_failed', // the new slot booted but failed its health checks
  'cancelled', // the offer was withdrawn before installing
  'internal', // anything else (see detail)
] as const;
export type UpdateFailureReason = (typeof updateFailureReasons)[number];

export const updateStatusSchema = z
  .strictObject({
    deploymentId: z.string().min(1).max(128),
    /** The version being installed (from the signed target). */
    version: z.string().min(1).max(64),
    state: z.enum(updateStates),
    /** Strictly increasing per device across all its status reports; duplicates/reorders are dropped. */
    seq: z.number().int().nonnegative(),
    /** 0-100 within the state (download bytes, install bytes). */
    progress: z.number().min(0).max(100).optional(),
    /** Set with state failed or rolled-back. */
    reason: z.enum(updateFailureReasons).optional(),
    detail: z.string().max(1000).optional(),
    /** True when the device downloads/used a delta patch instead of the full image. */
    delta: z.boolean().optional(),
    /** Bytes downloaded so far for this deployment (including resumed ranges). */
    bytes: z.number().int().nonnegative().optional(),
  })
  .refine((s) => (s.state === 'failed' || s.state === 'rolled-back') === (s.reason !== undefined), {
    message: 'reason is required for failed and rolled-back, and only for them',
    path: ['reason'],
  });
export type UpdateStatus = z.infer<typeof updateStatusSchema>;

/**
 * What the server did with a status (the body of `POST /device/v1/update/status`, 202 or 409).
 * `applied`: recorded. `duplicate`: seq not above the last one (a replay; nothing to do).
 * `ignored`: the assignment already ended (success, failed, rolled-back). Refusals (409):
 * `not_assigned` (no such assignment for this device), `cancelled` (the offer was withdrawn:
 * stop), `version_mismatch` (the version is not the one the assignment installs).
 */
export const updateStatusOutcomes = [
  'applied',
  'duplicate',
  'ignored',
  'not_assigned',
  'cancelled',
  'version_mismatch',
] as const;
export type UpdateStatusOutcome = (typeof updateStatusOutcomes)[number];

/** Outcomes that refuse the status: the device should drop the assignment and re-read its offer. */
export const refusedStatusOutcomes: readonly UpdateStatusOutcome[] = [
  'not_assigned',
  'cancelled',
  'version_mismatch',
];

export const updateStatusResponseSchema = z.strictObject({
  outcome: z.enum(updateStatusOutcomes),
  message: z.string(),
});
export type UpdateStatusResponse = z.infer<typeof updateStatusResponseSchema>;
