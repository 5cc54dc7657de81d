/** Test helpers: run the real Debian minisign 0.11 (a verifier nobody here wrote) in a temp dir. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs minisign with stdin closed; resolves with the exit code instead of throwing on failure. */
export async function minisign(args: string[], cwd?: string): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync('minisign', args, { cwd, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Like minisign() but fails the test when minisign does. */
export async function minisignOk(args: string[], cwd?: string): Promise<RunResult> {
  const result = await minisign(args, cwd);
  if (result.code !== 0)
    throw new Error(`minisign ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result;
}
