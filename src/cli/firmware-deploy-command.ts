/** `flotilla firmware deploy|deployments|deployment`: offer releases to devices and follow them. */
import { z } from 'zod';
import type { Command } from 'commander';
import {
  cancelResultSchema,
  deploymentSchema,
  deploymentSummarySchema,
  deployResultSchema,
} from '../api/routes/deployments.ts';
import { ValidationError } from '../infra/errors.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface DeployFlags {
  model: string;
  version: string;
  device: string[];
  installLater: boolean;
  force: boolean;
  replace: boolean;
  windowCron?: string;
  windowDuration?: string;
  windowTz?: string;
  server: string;
  json: boolean;
}

interface CommonFlags {
  server: string;
  json: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;

/** The maintenance window from the three --window-* flags (all or none; the server validates them). */
function installWindowOf(flags: DeployFlags): object {
  const { windowCron: cron, windowDuration: duration, windowTz: timezone } = flags;
  if (cron === undefined && duration === undefined && timezone === undefined) return {};
  if (cron === undefined || duration === undefined || timezone === undefined)
    throw new ValidationError('--window-cron, --window-duration and --window-tz go together');
  return { installWindow: { cron, durationS: Number(duration), timezone } };
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function registerDeploymentCommands(firmware: Command): void {
  firmware
    .command('deploy')
    .description('Offer a release to devices: pushed over MQTT (retained) and pullable over HTTPS')
    .requiredOption('--model <model>', 'hardware model of the release')
    .requiredOption('--version <semver>', 'release version')
    .option(
      '--device <id>',
      'a device to update; repeat for several (default: every device of the model)',
      collect,
      [],
    )
    .option('--install-later', 'download now, install when told or when the update lock clears', false)
    .option('--force', 'install even when the device holds an update lock', false)
    .option('--replace', 'take devices away from their active deployment instead of refusing', false)
    .option('--window-cron <cron>', 'install only in a maintenance window starting at this 5-field cron')
    .option('--window-duration <seconds>', 'how long the maintenance window stays open (60 to 604800)')
    .option('--window-tz <zone>', 'IANA time zone of --window-cron, e.g. Europe/Berlin')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print the result as JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla firmware deploy --model tracker-2 --version 2.4.1\n  flotilla firmware deploy --model tracker-2 --version 2.4.1 --device trk-1 --device trk-2 --install-later\n  flotilla firmware deploy --model tracker-2 --version 2.4.1 --window-cron "0 2 * * *" --window-duration 7200 --window-tz Europe/Berlin',
    )
    .action(async (flags: DeployFlags) => {
      const result = await new ApiClient(flags.server).post(
        '/api/v1/firmware/deployments',
        deployResultSchema,
        {
          model: flags.model,
          version: flags.version,
          ...(flags.device.length > 0 ? { deviceIds: flags.device } : {}),
          installNow: !flags.installLater,
          force: flags.force,
          replace: flags.replace,
          ...installWindowOf(flags),
        },
      );
      if (flags.json) return printJson(result);
      const { deployment, offered, skipped, replaced } = result;
      process.stdout.write(
        `deployment ${deployment.id}: ${deployment.hardwareModel}@${deployment.version} offered to ${offered.length} device(s)` +
          `${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}${replaced.length > 0 ? `, ${replaced.length} taken from other deployments` : ''}\n`,
      );
    });

  firmware
    .command('deployments')
    .description('Deployments, newest first')
    .option('--limit <n>', 'how many', '100')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: CommonFlags & { limit: string }) => {
      const page = await new ApiClient(flags.server).get(
        '/api/v1/firmware/deployments',
        z.object({ items: z.array(deploymentSchema), nextCursor: z.string().optional() }),
        [['limit', flags.limit]],
      );
      if (flags.json) return printJson(page);
      printTable(
        ['DEPLOYMENT', 'RELEASE', 'INSTALL', 'SOURCE', 'CREATED', 'CANCELLED'],
        page.items.map((d) => [
          d.id,
          `${d.hardwareModel}@${d.version}`,
          `${d.installNow ? 'now' : 'later'}${d.force ? ', force' : ''}`,
          d.source,
          d.createdAt,
          d.cancelledAt ?? '-',
        ]),
      );
    });

  const deployment = firmware
    .command('deployment')
    .description('One deployment: counts per state and its devices; `deployment cancel ID` withdraws it')
    .argument('<id>', 'deployment id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const summary = await new ApiClient(flags.server).get(
        `/api/v1/firmware/deployments/${encodeURIComponent(id)}`,
        deploymentSummarySchema,
        [['limit', '1000']],
      );
      if (flags.json) return printJson(summary);
      const d = summary.deployment;
      const counts = Object.entries(summary.counts)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ');
      process.stdout.write(
        `${d.id}  ${d.hardwareModel}@${d.version}  ${d.cancelledAt ? `cancelled ${d.cancelledAt}` : 'active'}\n${counts}\n\n`,
      );
      printTable(
        ['DEVICE', 'STATE', 'PROGRESS', 'REASON', 'FIRMWARE', 'UPDATED'],
        summary.devices.items.map((e) => [
          e.deviceId,
          e.state,
          e.progress === null ? '-' : `${e.progress}%`,
          e.reason ?? '-',
          e.firmwareVersion ?? '-',
          e.updatedAt,
        ]),
      );
    });
  deployment
    .command('cancel')
    .description('Withdraw the offer from every device that has not finished (idempotent)')
    .argument('<id>', 'deployment id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const result = await new ApiClient(flags.server).post(
        `/api/v1/firmware/deployments/${encodeURIComponent(id)}/cancel`,
        cancelResultSchema,
        undefined,
      );
      if (flags.json) return printJson(result);
      process.stdout.write(
        `cancelled ${result.deployment.id}: offer withdrawn from ${result.withdrawn.length} device(s)\n`,
      );
    });
}
