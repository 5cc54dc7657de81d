/**
 * GRUB backend through `grub-editenv FILE list|set`. Variables in the env block:
 *
 *   flotilla_primary  a|b   the committed slot
 *   flotilla_trial    a|b   the slot on trial, empty when none
 *   flotilla_tries    1|0   grub.cfg boots the trial while this is 1 and sets it to 0 first
 *
 * Every change is a single `set` (grub-editenv rewrites the 1 KiB block via a renamed copy),
 * so a power cut leaves the old or the new variables. grub.cfg: see docs/update-client.md.
 */
import { TRIAL_TRIES, type BootControl, type BootState, type Slot } from './boot-control.ts';
import { parseEnvList, parseSlot, readBootedSlotFromProc, runTool } from './boot-env-vars.ts';
import type { CommandRunner } from './command-runner.ts';

export interface GrubOptions {
  runner: CommandRunner;
  /** The env block, e.g. /boot/grub/grubenv. */
  envFile: string;
  /** Default `grub-editenv` on PATH. */
  tool?: string;
  /** Default: `flotilla.slot=` from /proc/cmdline. */
  bootedSlot?: () => Promise<Slot>;
}

export function createGrubBootControl(options: GrubOptions): BootControl {
  const { runner, envFile } = options;
  const tool = options.tool ?? 'grub-editenv';
  const bootedSlot = options.bootedSlot ?? readBootedSlotFromProc;
  const read = async () => parseEnvList(await runTool(runner, tool, [envFile, 'list']));
  const set = (vars: Record<string, string>) =>
    runTool(runner, tool, [envFile, 'set', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)]);

  return {
    async state(): Promise<BootState> {
      const vars = await read();
      const booted = await bootedSlot();
      const primary = parseSlot(vars.get('flotilla_primary'), 'flotilla_primary');
      const trialVar = vars.get('flotilla_trial') ?? '';
      if (trialVar === '') return { booted, primary };
      const triesLeft = Math.max(0, Number(vars.get('flotilla_tries') ?? 0));
      return { booted, primary, trial: { slot: parseSlot(trialVar, 'flotilla_trial'), triesLeft } };
    },
    async markTrial(slot) {
      await set({ flotilla_trial: slot, flotilla_tries: String(TRIAL_TRIES) });
    },
    async commit() {
      await set({ flotilla_primary: await bootedSlot(), flotilla_trial: '', flotilla_tries: '0' });
    },
    async revert() {
      await set({ flotilla_trial: '', flotilla_tries: '0' });
    },
  };
}
