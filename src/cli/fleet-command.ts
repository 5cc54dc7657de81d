/** `flotilla fleet summary`: the fleet metrics of the whole fleet, a saved group or a query. */
import type { Command } from 'commander';
import { fleetMetricsSummarySchema, type FleetMetricsSummary } from '../fleet-metrics/fleet-summary.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface SummaryFlags {
  server: string;
  json: boolean;
  group?: string;
  where?: string;
}

const pct = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} %`);

export function registerFleetCommand(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('Fleet metrics: online, firmware, battery, signal, errors');
  fleet
    .command('summary')
    .description('Online %, firmware versions and % current, battery and signal distributions, error rate')
    .option('--group <name>', 'only the devices of this saved group')
    .option('--where <query>', 'only the devices this fleet query matches (docs/fleet-query.md)')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla fleet summary\n  flotilla fleet summary --group beta --json\n  flotilla fleet summary --where \'model = "tracker-2"\'',
    )
    .action(async (flags: SummaryFlags) => {
      const query: Array<[string, string]> = [];
      if (flags.group !== undefined) query.push(['group', flags.group]);
      if (flags.where !== undefined) query.push(['where', flags.where]);
      const summary = await new ApiClient(flags.server).get(
        '/api/v1/fleet/summary',
        fleetMetricsSummarySchema,
        query,
      );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      printSummary(summary);
    });
}

function printSummary(s: FleetMetricsSummary): void {
  const out = process.stdout;
  out.write(`devices   ${s.devices.total}, online ${s.devices.online} (${pct(s.devices.onlinePct)})\n`);
  out.write(
    `firmware  ${pct(s.firmware.currentPct)} on the current release (${s.firmware.onCurrentRelease} of ${s.firmware.withRelease})\n`,
  );
  out.write(
    `errors    ${pct(s.errorRate.pct)} of samples (${s.errorRate.errors} in ${s.errorRate.samples})\n\n`,
  );
  printTable(
    ['FIRMWARE', 'DEVICES'],
    [
      ...s.firmware.versions.map((v) => [v.version ?? '(none)', String(v.devices)]),
      ...(s.firmware.otherDevices > 0 ? [['(other)', String(s.firmware.otherDevices)]] : []),
    ],
  );
  out.write('\n');
  printTable(
    ['BATTERY %', 'DEVICES'],
    s.battery.map((b) => [b.bucket, String(b.devices)]),
  );
  out.write('\n');
  printTable(
    ['SIGNAL DBM', 'DEVICES'],
    s.signal.map((b) => [b.bucket, String(b.devices)]),
  );
}
