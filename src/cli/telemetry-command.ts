/** `flotilla telemetry query|latest|events|archive`: telemetry of a running server, as a table or JSON. */
import type { Command } from 'commander';
import { z } from 'zod';
import { eventsResponseSchema, latestResponseSchema, seriesResponseSchema } from '../api/routes/telemetry.ts';
import { archiveEntrySchema } from '../api/routes/telemetry-archives.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface CommonFlags {
  server: string;
  json: boolean;
}

interface QueryFlags extends CommonFlags {
  device?: string;
  model?: string;
  firmware?: string;
  fleet: boolean;
  metric: string;
  resolution: string;
  from?: string;
  to?: string;
  limit: string;
}

interface EventFlags extends CommonFlags {
  type: string[];
  severity: string[];
  from?: string;
  to?: string;
  limit: string;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;
const timeHelp = 'ms since the epoch or an ISO 8601 time';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const iso = (ms: number) => new Date(ms).toISOString();
const fixed = (value: number) => String(Number(value.toFixed(3)));

/** Query parameters of the flags that were given (the server validates them). */
function params(pairs: Array<[string, string | undefined]>): Array<[string, string]> {
  return pairs.filter((pair): pair is [string, string] => pair[1] !== undefined);
}

export function registerTelemetryCommand(program: Command): void {
  const telemetry = program
    .command('telemetry')
    .description('Telemetry of a running server: series, latest values, events (docs/telemetry.md)');

  telemetry
    .command('query')
    .description('A metric over time for a device, a hardware model, a firmware version or the fleet')
    .requiredOption('--metric <name>', 'metric name, e.g. battery_pct')
    .option('--device <id>', 'one device')
    .option('--model <model>', 'every device of this hardware model')
    .option('--firmware <version>', 'every device running this firmware version')
    .option('--fleet', 'every device', false)
    .option('--resolution <r>', 'raw (windows as sent), hour or day (rollups)', 'hour')
    .option('--from <time>', `start, inclusive (${timeHelp}); default: 24 h before --to`)
    .option('--to <time>', `end, exclusive (${timeHelp}); default: now`)
    .option('--limit <n>', 'points at most (1-10000)', '1000')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla telemetry query --device dev-1 --metric battery_pct --resolution raw\n  flotilla telemetry query --model tracker-2 --metric temperature_c --resolution day --from 2026-11-01T00:00:00Z',
    )
    .action(async (flags: QueryFlags) => {
      const query = params([
        ['device', flags.device],
        ['model', flags.model],
        ['firmware', flags.firmware],
        ['fleet', flags.fleet ? 'true' : undefined],
        ['metric', flags.metric],
        ['resolution', flags.resolution],
        ['from', flags.from],
        ['to', flags.to],
        ['limit', flags.limit],
      ]);
      const series = await new ApiClient(flags.server).get(
        '/api/v1/telemetry/series',
        seriesResponseSchema,
        query,
      );
      if (flags.json) return printJson(series);
      printTable(
        [
          'START',
          'END',
          ...(series.resolution === 'raw' && series.scope !== 'device' ? ['DEVICE'] : []),
          'MIN',
          'AVG',
          'MAX',
          'LAST',
          'COUNT',
        ],
        series.points.map((p) => [
          iso(p.startMs),
          iso(p.endMs),
          ...(series.resolution === 'raw' && series.scope !== 'device' ? [p.deviceId ?? '-'] : []),
          fixed(p.min),
          fixed(p.avg),
          fixed(p.max),
          fixed(p.last),
          String(p.count),
        ]),
      );
    });

  telemetry
    .command('latest')
    .description('The latest value of each metric of one or more devices')
    .argument('<device...>', 'device ids')
    .option('--metric <name>', 'only this metric (repeat)', collect, [])
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (devices: string[], flags: CommonFlags & { metric: string[] }) => {
      const query: Array<[string, string]> = [
        ...devices.map((id): [string, string] => ['device', id]),
        ...flags.metric.map((m): [string, string] => ['metric', m]),
      ];
      const latest = await new ApiClient(flags.server).get(
        '/api/v1/telemetry/latest',
        latestResponseSchema,
        query,
      );
      if (flags.json) return printJson(latest);
      printTable(
        ['DEVICE', 'METRIC', 'KIND', 'VALUE', 'AT'],
        latest.items.map((v) => [v.deviceId, v.metric, v.kind, fixed(v.value), iso(v.atMs)]),
      );
    });

  telemetry
    .command('events')
    .description("A device's events (errors, boots, update statuses), newest first")
    .argument('<device>', 'device id')
    .option('--type <type>', 'only this type: error, boot or update (repeat)', collect, [])
    .option(
      '--severity <s>',
      'only this severity: debug, info, warning, error, critical (repeat)',
      collect,
      [],
    )
    .option('--from <time>', `start, inclusive (${timeHelp}); default: 24 h before --to`)
    .option('--to <time>', `end, exclusive (${timeHelp}); default: now`)
    .option('--limit <n>', 'events at most (1-1000)', '100')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (device: string, flags: EventFlags) => {
      const query: Array<[string, string]> = [
        ['device', device],
        ...flags.type.map((t): [string, string] => ['type', t]),
        ...flags.severity.map((s): [string, string] => ['severity', s]),
        ...params([
          ['from', flags.from],
          ['to', flags.to],
          ['limit', flags.limit],
        ]),
      ];
      const events = await new ApiClient(flags.server).get(
        '/api/v1/telemetry/events',
        eventsResponseSchema,
        query,
      );
      if (flags.json) return printJson(events);
      printTable(
        ['AT', 'TYPE', 'SEVERITY', 'CODE', 'MESSAGE'],
        events.items.map((e) => [iso(e.atMs), e.type, e.severity, e.code, e.message ?? '']),
      );
    });

  telemetry
    .command('archive')
    .description(
      'Archived telemetry days: the Parquet files of the cold tier (under <dataDir>/archive/telemetry)',
    )
    .option('--table <table>', 'only windows or events')
    .option('--kind <kind>', 'only windows of this kind: health or app')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: CommonFlags & { table?: string; kind?: string }) => {
      const archives = await new ApiClient(flags.server).get(
        '/api/v1/telemetry/archives',
        z.object({ items: z.array(archiveEntrySchema) }),
        params([
          ['table', flags.table],
          ['kind', flags.kind],
        ]),
      );
      if (flags.json) return printJson(archives);
      printTable(
        ['DAY', 'TABLE', 'KIND', 'ROWS', 'BYTES', 'PATH'],
        archives.items.map((a) => [
          iso(a.dayStartMs).slice(0, 10),
          a.table,
          a.kind ?? '-',
          String(a.rows),
          String(a.bytes),
          a.path,
        ]),
      );
    });
}
