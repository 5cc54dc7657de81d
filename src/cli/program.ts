/**
 * The `flotilla` command tree: every command and its options, without running anything (main.ts
 * parses the command line; tests walk the tree to check every command's help).
 */
import { Command } from 'commander';
import { FLOTILLA_VERSION } from '../version.ts';
import { registerServerCommand } from './server-command.ts';
import { registerDevicesCommand } from './devices-command.ts';
import { registerGroupsCommand } from './groups-command.ts';
import { registerConfigCommand } from './config-command.ts';
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
import { registerPlanCommand } from './plan-command.ts';
import { registerJobsCommand } from './jobs-command.ts';
import { registerLoginCommands } from './login-command.ts';
import { registerAccessCommands } from './access-command.ts';

export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Flotilla: fleet management for IoT devices')
    .version(FLOTILLA_VERSION)
    // Root options only before the sub-command, so `firmware publish --version 2.4.1` is the release's.
    .enablePositionalOptions()
    .option(
      '--token <secret>',
      'API token for the management API (env FLOTILLA_TOKEN; default: the one `flotilla login` stored)',
    )
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', (command) => {
      // Every API command reads FLOTILLA_TOKEN (api-client.ts): --token is its command-line form.
      const token = command.opts<{ token?: string }>().token;
      if (token !== undefined) process.env['FLOTILLA_TOKEN'] = token;
    });

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
  registerConfigCommand(program);
  registerFleetCommand(program);
  registerAuditCommand(program);
  registerPlanCommand(program);
  registerJobsCommand(program);
  registerLoginCommands(program);
  registerAccessCommands(program);
  return program;
}
