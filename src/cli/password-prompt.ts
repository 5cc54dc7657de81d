/** Reads a password: FLOTILLA_PASSWORD, else asked on the terminal without echo, else stdin's first line. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export async function readPassword(prompt: string, env: NodeJS.ProcessEnv): Promise<string> {
  const preset = env['FLOTILLA_PASSWORD'];
  if (preset !== undefined && preset !== '') return preset;
  const tty = process.stdin.isTTY;
  if (tty) process.stderr.write(prompt);
  // Echo nothing typed: the prompt went to stderr, the muted stream swallows the characters.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input: process.stdin, output: muted, terminal: tty });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
    if (tty) process.stderr.write('\n');
  }
}
