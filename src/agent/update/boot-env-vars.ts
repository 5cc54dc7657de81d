/** Parsing helpers shared by the U-Boot and GRUB backends. Pure. */
import { readFile } from 'node:fs/promises';
import { UnavailableError, ValidationError } from '../../infra/errors.ts';
import { slotSchema, type Slot } from './boot-control.ts';
import type { CommandRunner } from './command-runner.ts';

/** `name=value` lines (fw_printenv, grub-editenv list); the first `=` splits. */
export function parseEnvList(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) vars.set(line.slice(0, at), line.slice(at + 1));
  }
  return vars;
}

export function parseSlot(value: string | undefined, what: string): Slot {
  const parsed = slotSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`boot env: ${what} is not a slot`, { value });
  return parsed.data;
}

/** The slot from a kernel command line carrying `flotilla.slot=a|b` (set by the boot script). */
export function bootedSlotFromCmdline(cmdline: string): Slot {
  const match = /(?:^|\s)flotilla\.slot=(\S+)/.exec(cmdline);
  return parseSlot(match?.[1], 'flotilla.slot on the kernel command line');
}

/** Default `bootedSlot` for real bootloaders: /proc/cmdline. */
export async function readBootedSlotFromProc(): Promise<Slot> {
  return bootedSlotFromCmdline(await readFile('/proc/cmdline', 'utf8'));
}

/** Runs a boot env tool and throws when it fails, since the boot state is then unknown. */
export async function runTool(runner: CommandRunner, file: string, args: string[]): Promise<string> {
  const result = await runner.run(file, args);
  if (result.code !== 0)
    throw new UnavailableError(`${file} failed (exit ${result.code})`, {
      stderr: result.stderr.slice(0, 500),
    });
  return result.stdout;
}
