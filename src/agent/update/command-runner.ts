/** Running a system tool (fw_setenv, grub-editenv, a health-check command) as a dependency. */
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Exit code; 0 is success. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(
    file: string,
    args: readonly string[],
    options?: { input?: string; signal?: AbortSignal },
  ): Promise<CommandResult>;
}

/** execFile without a shell; a missing executable rejects (ENOENT), a non-zero exit resolves. */
export const execCommandRunner: CommandRunner = {
  run(file, args, options = {}) {
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        [...args],
        { signal: options.signal, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error === null) return resolve({ code: 0, stdout, stderr });
          // A number is the exit code; a string (ENOENT, …) means it did not run at all.
          if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
          reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error }));
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  },
};
