/**
 * `flotilla firmware diff OLD NEW --out PATCH`: builds a BSDIFF40 delta between two firmware
 * images, so devices running OLD download the patch instead of all of NEW.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../infra/errors.ts';
import { createPatch, sha256File } from '../ota/delta/bsdiff.ts';

/** What `--json` prints; sizes in bytes, `ratio` = patch / new. */
export interface FirmwareDiffSummary {
  format: 'BSDIFF40';
  old: { file: string; bytes: number; sha256: string };
  new: { file: string; bytes: number; sha256: string };
  patch: { file: string; bytes: number };
  ratio: number;
  buildMs: number;
}

async function describe(
  file: string,
  what: string,
): Promise<{ file: string; bytes: number; sha256: string }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    return { file, bytes: info.size, sha256: await sha256File(file) };
  } catch {
    throw new ValidationError(`cannot read ${what} image ${file}`);
  }
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** Registers `diff` under the `firmware` command group; `out` receives what it prints. */
export function registerFirmwareDiffCommand(
  firmware: Command,
  out: NodeJS.WritableStream = process.stdout,
): void {
  const say = (text: string): void => void out.write(`${text}\n`);
  firmware
    .command('diff')
    .description('Build a delta (BSDIFF40, applies with stock bspatch) from one firmware image to the next')
    .argument('<old>', 'the image devices run now')
    .argument('<new>', 'the image to update them to')
    .requiredOption('--out <patch>', 'where to write the patch')
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla firmware diff fw-1.2.0.bin fw-1.3.0.bin --out fw-1.2.0-1.3.0.bsdiff',
    )
    .action(async (oldFile: string, newFile: string, o: { out: string; json: boolean }) => {
      const [before, after] = [await describe(oldFile, 'old'), await describe(newFile, 'new')];
      const built = await createPatch(oldFile, newFile, o.out);
      const summary: FirmwareDiffSummary = {
        format: 'BSDIFF40',
        old: before,
        new: after,
        patch: { file: o.out, bytes: built.bytes },
        ratio: after.bytes === 0 ? 0 : built.bytes / after.bytes,
        buildMs: Math.round(built.ms),
      };
      if (o.json) say(JSON.stringify(summary, null, 2));
      else
        say(
          `patch written: ${o.out}\n${humanBytes(built.bytes)} for a ${humanBytes(after.bytes)} image ` +
            `(${(summary.ratio * 100).toFixed(2)} %), built in ${(built.ms / 1000).toFixed(1)} s\n` +
            `apply on the device with: bspatch OLD NEW ${o.out}`,
        );
    });
}
