/**
 * Custom commands the device registers in its config: run with execFile semantics (no shell),
 * the job's params as JSON on stdin and in FLOTILLA_JOB_PARAMS, stdout and stderr capped, killed
 * after `timeoutS`. Exit 0 → succeeded; anything else → failed with the exit code.
 */
import { spawn } from 'node:child_process';
import type { ActionOutcome } from './types.ts';

/** Bytes of stdout and of stderr kept in the result (the result's JSON is limited to 16 KiB). */
export const MAX_COMMAND_OUTPUT_BYTES = 4096;

export interface CustomCommand {
  name: string;
  argv: readonly [string, ...string[]];
  timeoutS: number;
  description?: string;
}

export function runCustomCommand(
  command: CustomCommand,
  params: Record<string, unknown>,
  maxOutputBytes = MAX_COMMAND_OUTPUT_BYTES,
): Promise<ActionOutcome> {
  const [file, ...args] = command.argv;
  const json = JSON.stringify(params);
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, FLOTILLA_JOB_PARAMS: json },
    });
    const out = capture(maxOutputBytes);
    const err = capture(maxOutputBytes);
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, command.timeoutS * 1000);
    child.stdin.on('error', () => {}); // a command that does not read stdin closes it early
    child.stdin.end(json);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, code: 'command_not_runnable', message: `cannot run ${file}: ${error.message}` });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result = {
        exitCode,
        ...(signal ? { signal } : {}),
        stdout: out.text(),
        stderr: err.text(),
        ...(out.truncated() || err.truncated() ? { truncated: true } : {}),
      };
      if (timedOut) {
        resolve({
          ok: false,
          code: 'timeout',
          message: `${command.name} ran longer than ${command.timeoutS} s and was killed`,
          result,
        });
      } else if (exitCode === 0) resolve({ ok: true, result });
      else {
        resolve({
          ok: false,
          code: 'exit_code',
          message: `${command.name} exited with ${exitCode ?? signal}`,
          result,
        });
      }
    });
  });
}

function capture(maxBytes: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    add: (chunk: Buffer) => {
      const room = maxBytes - kept;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
      dropped += Math.max(0, chunk.length - Math.max(0, room));
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    truncated: () => dropped > 0,
  };
}
