/**
 * U-Boot backend through libubootenv's `fw_printenv` / `fw_setenv`. Variables:
 *
 *   flotilla_primary   a|b   the committed slot
 *   flotilla_trial     a|b   the slot on trial (absent when none)
 *   upgrade_available  1|0   U-Boot counts boots in `bootcount` only while this is 1
 *   bootcount, bootlimit     with bootlimit=1: the first boot runs bootcmd (trial slot), the
 *                            second finds bootcount > bootlimit and runs altbootcmd (primary)
 *
 * The boot script passes `flotilla.slot=<slot>` on the kernel command line. Every change is one
 * `fw_setenv -s <script>` call (U-Boot's tools and libubootenv both take a script file), which
 * writes the redundant env copy and then flips the active flag: old or new after a power cut.
 */
import { TRIAL_TRIES, type BootControl, type BootState, type Slot } from './boot-control.ts';
import { parseEnvList, parseSlot, readBootedSlotFromProc, runTool } from './boot-env-vars.ts';
import type { CommandRunner } from './command-runner.ts';
import type { Disk } from './disk.ts';

export interface UbootOptions {
  runner: CommandRunner;
  /** Writes the fw_setenv script file. */
  disk: Disk;
  /** Where the script is written, e.g. /run/flotilla/fw_setenv.script (tmpfs is fine). */
  scriptPath: string;
  /** Default `fw_printenv` / `fw_setenv` on PATH. */
  tools?: { printenv: string; setenv: string };
  /** Default: `flotilla.slot=` from /proc/cmdline. */
  bootedSlot?: () => Promise<Slot>;
}

export function createUbootBootControl(options: UbootOptions): BootControl {
  const { runner } = options;
  const tools = options.tools ?? { printenv: 'fw_printenv', setenv: 'fw_setenv' };
  const bootedSlot = options.bootedSlot ?? readBootedSlotFromProc;

  const read = async () => parseEnvList(await runTool(runner, tools.printenv, []));
  /** `name value` sets, a bare `name` deletes (fw_setenv script syntax). */
  const apply = async (lines: string[]) => {
    await options.disk.replaceFile(options.scriptPath, Buffer.from(`${lines.join('\n')}\n`));
    await runTool(runner, tools.setenv, ['-s', options.scriptPath]);
  };

  return {
    async state(): Promise<BootState> {
      const vars = await read();
      const booted = await bootedSlot();
      const primary = parseSlot(vars.get('flotilla_primary'), 'flotilla_primary');
      const trialVar = vars.get('flotilla_trial');
      if (trialVar === undefined || trialVar === '' || vars.get('upgrade_available') !== '1')
        return { booted, primary };
      const limit = Number(vars.get('bootlimit') ?? TRIAL_TRIES);
      const count = Number(vars.get('bootcount') ?? 0);
      const triesLeft = Math.max(0, limit - count);
      return { booted, primary, trial: { slot: parseSlot(trialVar, 'flotilla_trial'), triesLeft } };
    },
    async markTrial(slot) {
      await apply([
        `flotilla_trial ${slot}`,
        `bootlimit ${TRIAL_TRIES}`,
        'bootcount 0',
        'upgrade_available 1',
      ]);
    },
    async commit() {
      const booted = await bootedSlot();
      await apply([`flotilla_primary ${booted}`, 'flotilla_trial', 'upgrade_available 0', 'bootcount 0']);
    },
    async revert() {
      await apply(['flotilla_trial', 'upgrade_available 0', 'bootcount 0']);
    },
  };
}
