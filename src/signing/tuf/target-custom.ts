import { z } from 'zod';
import { ValidationError } from '../../infra/errors.ts';

const hardwareSchema = z.object({
  model: z.string().min(1),
  revisions: z.array(z.string().min(1)),
});
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits');

/**
 * Target names are flat file names: the repository stores them as `<sha256>.<name>`
 * (TUF 5.7.3 with consistent snapshots) and they must not escape the targets directory.
 */
export const TargetNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'target name must be a flat file name');

/**
 * A full firmware image. An object without `kind` is an image (metadata written before deltas).
 * `allowDowngrade` is the signed downgrade policy: the device may install this version even
 * when it is lower than the installed one.
 */
export const ImageTargetCustomSchema = z.object({
  kind: z.literal('image').optional(),
  version: z.string().min(1),
  hardware: hardwareSchema,
  minVersion: z.string().min(1).optional(),
  mandatory: z.boolean().optional(),
  allowDowngrade: z.boolean().optional(),
});

/**
 * A BSDIFF40 patch that turns the image whose sha256 is `base.sha256` into the full image
 * `target.name` (itself a target, so the result is verified like a full download).
 */
export const DeltaTargetCustomSchema = z.object({
  kind: z.literal('delta'),
  /** Version of the image the patch produces. */
  version: z.string().min(1),
  hardware: hardwareSchema,
  base: z.object({ version: z.string().min(1), sha256: sha256Schema }),
  target: z.object({
    name: TargetNameSchema,
    sha256: sha256Schema,
    /** bytes */
    length: z.number().int().min(0),
  }),
});

/**
 * Flotilla's application fields inside a TUF target's `custom` object (TUF 4.4: "custom" is
 * opaque to the framework). Devices parse it with the same schema after verification.
 */
export const TargetCustomSchema = z.union([DeltaTargetCustomSchema, ImageTargetCustomSchema]);
export type TargetCustom = z.infer<typeof TargetCustomSchema>;
export type ImageTargetCustom = z.infer<typeof ImageTargetCustomSchema>;
export type DeltaTargetCustom = z.infer<typeof DeltaTargetCustomSchema>;

/**
 * One target to publish: its content comes from `path` or `bytes` (copied into `targets/`), or
 * it lives elsewhere (the artifact store) and only its `length` and `sha256` are recorded.
 */
export type TargetInput = {
  name: string;
  custom: TargetCustom;
} & (
  | { path: string; bytes?: undefined; sha256?: undefined }
  | { bytes: Uint8Array; path?: undefined; sha256?: undefined }
  | { sha256: string; length: number; path?: undefined; bytes?: undefined }
);

/** Parses `custom` from a verified target (device side; a trust boundary per STYLE 3). */
export function parseTargetCustom(custom: unknown): TargetCustom {
  const parsed = TargetCustomSchema.safeParse(custom);
  if (!parsed.success) {
    throw new ValidationError('invalid target custom fields', { issues: parsed.error.issues });
  }
  return parsed.data;
}
