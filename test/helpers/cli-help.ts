/**
 * `flotilla … --help` without a process per command: the command tree is built in this process
 * (src/cli/program.ts, the same tree the bin parses) and each command prints its help into a
 * string, extra help text included. One spawned `flotilla --help` per suite still covers the bin.
 */
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.ts';

/** Every command below the root, as its path of names: ['devices'], ['devices', 'list'], … */
export function allCommandPaths(): string[][] {
  const paths: string[][] = [];
  const walk = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      const next = [...path, sub.name()];
      paths.push(next);
      walk(sub, next);
    }
  };
  walk(buildProgram(), []);
  return paths;
}

/** The command `flotilla <path>` of a fresh tree. Throws for an unknown command. */
export function findCommand(path: readonly string[]): Command {
  let command: Command = buildProgram();
  for (const name of path) {
    const sub = command.commands.find((c) => c.name() === name);
    if (sub === undefined) throw new Error(`no command flotilla ${path.join(' ')}`);
    command = sub;
  }
  return command;
}

/** What `flotilla <path> --help` prints on stdout. Throws for an unknown command. */
export function commandHelp(path: readonly string[]): string {
  const command = findCommand(path);
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}
