/** Runs the `flotilla` command as a user runs it (a child process), for the CLI tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FLOTILLA_BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

export interface CliResult {
  /** The exit code (1 when it could not be read, e.g. killed on timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

/** `flotilla ARGS` with `env` added to this process's environment; never rejects. */
export function runFlotilla(
  args: string[],
  env: Record<string, string> = {},
  // Generous: ten of these may start at once on a loaded two-core machine; a hung CLI still fails the test.
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [FLOTILLA_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
