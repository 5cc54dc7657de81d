/**
 * The update client's persisted state: one JSON file replaced atomically and durably on every
 * step, so after a power cut the client resumes from the last completed step. It also holds the
 * status seq, the anti-rollback floor and what each slot contains.
 */
import { z } from 'zod';
import {
  updateFailureReasons,
  updateOfferSchema,
  updateStatusSchema,
} from '../../contracts/update-messages.ts';
import { ValidationError } from '../../infra/errors.ts';
import { slotSchema } from './boot-control.ts';
import type { Disk } from './disk.ts';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const signedFileSchema = z.strictObject({
  name: z.string().min(1),
  sha256: sha256Hex,
  length: z.number().int().nonnegative(),
});

/** A verified image known to be in a slot. */
export const slotImageSchema = z.strictObject({
  version: z.string().min(1),
  sha256: sha256Hex,
  length: z.number().int().nonnegative(),
});
export type SlotImage = z.infer<typeof slotImageSchema>;

/**
 * Steps in order. A crash resumes the step that was recorded last:
 *   accepted     offer taken; metadata not yet verified        → verify again
 *   downloading  target verified and planned                   → resume the part file at partBytes
 *   downloaded   artifact complete and hash-checked            → wait for install, or install
 *   installing   writing the inactive slot                     → rewrite it from the start
 *   rebooting    slot written and read back; trial being set   → set the trial (again), reboot
 *   verifying    booted the trial; health checks               → (power cut: bootloader falls back)
 *   reverting    health checks failed; trial being cleared     → report rolled-back on the old slot
 */
export const jobPhases = [
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'rebooting',
  'verifying',
  'reverting',
] as const;
export type JobPhase = (typeof jobPhases)[number];

export const jobSchema = z.strictObject({
  offer: updateOfferSchema,
  phase: z.enum(jobPhases),
  /** The full image from verified metadata (set from `downloading` on). */
  image: signedFileSchema
    .extend({ version: z.string().min(1), minVersion: z.string().min(1).optional() })
    .optional(),
  /** What is downloaded: the image itself or a delta patch onto the booted image. */
  artifact: signedFileSchema.extend({ delta: z.boolean() }).optional(),
  /** minisign signature text of the image, when a public key is configured. */
  minisig: z.string().max(4096).optional(),
  /** Durable length of the part file, in bytes (fsynced before being recorded). */
  partBytes: z.number().int().nonnegative(),
  /** install() was called, or the offer said installNow. */
  installRequested: z.boolean(),
  /**
   * The job waits at `downloaded` for the offer's maintenance window, which opens at this time
   * (null: never again); recorded so the wait is reported once, not at every re-check.
   */
  windowOpensAtMs: z.number().int().nullable().optional(),
  /** The inactive slot being written / on trial. */
  slot: slotSchema.optional(),
  /** Why we are reverting. */
  reason: z.enum(updateFailureReasons).optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const clientStateSchema = z.strictObject({
  /** seq of the last status report sent. */
  seq: z.number().int().nonnegative(),
  /** Anti-rollback floor: the highest minVersion of a committed image. */
  floorVersion: z.string().min(1).optional(),
  slots: z.strictObject({ a: slotImageSchema.optional(), b: slotImageSchema.optional() }),
  job: jobSchema.optional(),
  /** An offer for another deployment, taken up once the job (past the point of no return) ends. */
  queued: updateOfferSchema.optional(),
  /** The last final status; re-sent on start until `sent`, and for a repeated offer of its deployment. */
  lastFinal: z.strictObject({ status: updateStatusSchema, sent: z.boolean() }).optional(),
});
export type ClientState = z.infer<typeof clientStateSchema>;

export async function loadState(disk: Disk, path: string): Promise<ClientState | undefined> {
  const bytes = await disk.readFile(path);
  if (bytes === undefined) return undefined;
  const parsed = clientStateSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!parsed.success)
    throw new ValidationError('invalid update state file', { issues: parsed.error.issues });
  return parsed.data;
}

export async function saveState(disk: Disk, path: string, state: ClientState): Promise<void> {
  await disk.replaceFile(path, Buffer.from(`${JSON.stringify(state)}\n`));
}
