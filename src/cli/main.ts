#!/usr/bin/env node
/** The `flotilla` command. Each sub-command lives in its own module. */
import { Command, CommanderError } from 'commander';
import { FLOTILLA_VERSION } from '../version.ts';
import { ConfigError, FlotillaError } from '../infra/errors.ts';
import { registerServerCommand } from './server-command.ts';
import { registerDevicesCommand } from './devices-command.ts';
import { registerGroupsCommand } from './groups-command.ts';
import { registerAgentCommand } from './agent-command.ts';
import { registerSimulateCommand } from './simulate-command.ts';
import { registerFactoryCommand } from './factory-command.ts';
import { registerCaCommand } from './ca-command.ts';
import { registerFirmwareCommand } from './firmware-command.ts';
import { registerRolloutCommand } from './rollout-command.ts';
import { registerAlertsCommand } from './alerts-command.ts';
import { registerFleetCommand } from './fleet-command.ts';
import { registerKeysCommand } from './keys-command.ts';
import { registerTelemetryCommand } from './telemetry-command.ts';
import { registerAuditCommand } from './audit-command.ts';
import { registerJobsCommand } from './jobs-command.ts';
import { ApiRequestError } from './api-client.ts';

const program = new Command('flotilla')
  .description('Flotilla: fleet management for IoT devices')
  .version(FLOTILLA_VERSION)
  // Root options only before the sub-command, so `firmware publish --version 2.4.1` is the release's.
  .enablePositionalOptions()
  .showHelpAfterError()
  .exitOverride();

registerServerCommand(program);
registerAgentCommand(program);
registerSimulateCommand(program);
registerDevicesCommand(program);
registerFactoryCommand(program);
registerCaCommand(program);
registerFirmwareCommand(program);
registerKeysCommand(program);
registerRolloutCommand(program);
registerAlertsCommand(program);
registerTelemetryCommand(program);
registerGroupsCommand(program);
registerFleetCommand(program);
registerAuditCommand(program);
registerJobsCommand(program);

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
