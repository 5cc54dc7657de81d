import { z } from 'zod';
import { ValidationError } from '../../infra/errors.ts';

/**
 * Flotilla's application fields inside a TUF target's `custom` object (TUF 4.4: "custom" is
 * opaque to the framework). Devices parse it with the same schema after verification.
 */
export const TargetCustomSchema = z.object({
  version: z.string().min(1),
  hardware: z.object({
    model: z.string().min(1),
    revisions: z.array(z.string().min(1)),
  }),
  minVersion: z.string().min(1).optional(),
  mandatory: z.boolean().optional(),
});
export type TargetCustom = z.infer<typeof TargetCustomSchema>;

/**
 * Target names are flat file names: the repository stores them as `<sha256>.<name>`
 * (TUF 5.7.3 with consistent snapshots) and they must not escape the targets directory.
 */
export const TargetNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'target name must be a flat file name');

/** One file to publish: its content comes from `path` or `bytes`. */
export type TargetInput = {
  name: string;
  custom: TargetCustom;
} & ({ path: string; bytes?: undefined } | { bytes: Uint8Array; path?: undefined });

/** Parses `custom` from a verified target (device side; a trust boundary per STYLE 3). */
export function parseTargetCustom(custom: unknown): TargetCustom {
  const parsed = TargetCustomSchema.safeParse(custom);
  if (!parsed.success) {
    throw new ValidationError('invalid target custom fields', { issues: parsed.error.issues });
  }
  return parsed.data;
}
