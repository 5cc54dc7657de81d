/**
 * File-backed boot env for simulation and tests: a JSON file written durably, plus
 * `bootloaderDecide`, the pure power-on decision that U-Boot's bootcount / upgrade_available
 * logic makes (see boot-uboot.ts for the real variables).
 */
import { z } from 'zod';
import { ValidationError } from '../../infra/errors.ts';
import { slotSchema, TRIAL_TRIES, type BootControl, type BootState, type Slot } from './boot-control.ts';
import type { Disk } from './disk.ts';

export const fileBootEnvSchema = z.strictObject({
  primary: slotSchema,
  booted: slotSchema,
  trial: z.strictObject({ slot: slotSchema, triesLeft: z.number().int().nonnegative() }).optional(),
});
export type FileBootEnv = z.infer<typeof fileBootEnvSchema>;

/**
 * What the bootloader does at power-on: a trial with tries left boots the trial slot and uses
 * one try; a trial with none left boots the primary and keeps the spent trial as the record
 * that it failed; otherwise the primary boots.
 */
export function bootloaderDecide(env: FileBootEnv): FileBootEnv {
  const { trial } = env;
  if (trial && trial.triesLeft > 0)
    return { ...env, booted: trial.slot, trial: { slot: trial.slot, triesLeft: trial.triesLeft - 1 } };
  return { ...env, booted: env.primary };
}

export function parseFileBootEnv(bytes: Buffer): FileBootEnv {
  const parsed = fileBootEnvSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!parsed.success) throw new ValidationError('invalid boot env file', { issues: parsed.error.issues });
  return parsed.data;
}

export function encodeFileBootEnv(env: FileBootEnv): Buffer {
  return Buffer.from(`${JSON.stringify(env)}\n`);
}

/** A boot env file at `path`; a missing file means slot `initialSlot` is primary and booted. */
export function createFileBootControl(disk: Disk, path: string, initialSlot: Slot = 'a'): BootControl {
  async function read(): Promise<FileBootEnv> {
    const bytes = await disk.readFile(path);
    return bytes ? parseFileBootEnv(bytes) : { primary: initialSlot, booted: initialSlot };
  }
  const write = (env: FileBootEnv) => disk.replaceFile(path, encodeFileBootEnv(env));
  return {
    async state(): Promise<BootState> {
      const { booted, primary, trial } = await read();
      return trial ? { booted, primary, trial: { ...trial } } : { booted, primary };
    },
    async markTrial(slot) {
      const env = await read();
      await write({ ...env, trial: { slot, triesLeft: TRIAL_TRIES } });
    },
    async commit() {
      const { booted } = await read();
      await write({ primary: booted, booted });
    },
    async revert() {
      const { primary, booted } = await read();
      await write({ primary, booted });
    },
  };
}
