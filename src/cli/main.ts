#!/usr/bin/env node
/** The `flotilla` command. Each sub-command lives in its own module. */
import { CommanderError } from 'commander';
import { ConfigError, FlotillaError } from '../infra/errors.ts';
import { ApiRequestError } from './api-client.ts';
import { buildProgram } from './program.ts';

const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ConfigError) {
    process.stderr.write(`flotilla: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof FlotillaError || err instanceof ApiRequestError) {
    process.stderr.write(`flotilla: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
