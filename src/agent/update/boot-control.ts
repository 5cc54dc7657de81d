/**
 * A/B boot control, independent of the bootloader. The bootloader boots the committed
 * (primary) slot unless a trial is pending: then it boots the trial slot once, and if the
 * system does not commit it, falls back to the primary on the next power-on.
 */
import { z } from 'zod';

export const slotSchema = z.enum(['a', 'b']);
export type Slot = z.infer<typeof slotSchema>;

export function otherSlot(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

export interface BootState {
  /** The slot this system booted from. */
  booted: Slot;
  /** The committed slot the bootloader boots when no trial is pending. */
  primary: Slot;
  /**
   * A pending or spent trial. `triesLeft` 0 while booted from another slot means the trial boot
   * failed and the bootloader fell back; while booted from the trial slot it is the trial itself.
   */
  trial?: { slot: Slot; triesLeft: number };
}

/** One implementation per bootloader (file env for simulation, U-Boot, GRUB). */
export interface BootControl {
  state(): Promise<BootState>;
  /** The next power-on boots `slot` exactly once; a later one falls back unless committed. */
  markTrial(slot: Slot): Promise<void>;
  /** Makes the booted slot the primary and clears the trial. */
  commit(): Promise<void>;
  /** Clears the trial so the bootloader boots the primary again (and forgets a failed trial). */
  revert(): Promise<void>;
}

/** Tries a trial slot gets: exactly one boot. */
export const TRIAL_TRIES = 1;
