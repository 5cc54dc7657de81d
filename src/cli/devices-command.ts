/** `flotilla devices list|get`: the registry from the command line, as a table or JSON. */
import type { Command } from 'commander';
import { deviceSchema, type Device } from '../contracts/device.ts';
import { deviceCountSchema, devicePageSchema } from '../api/routes/devices.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { auditPageSchema } from '../api/routes/audit.ts';
import { groupOperationResultSchema, type GroupOperationResult } from '../groups/group-operations.ts';
import { InvalidArgumentError } from 'commander';

interface FilterOptions {
  server: string;
  model?: string;
  firmware?: string;
  state?: string;
  tag: string[];
  where?: string;
  group?: string;
  json: boolean;
}

interface ListOptions extends FilterOptions {
  limit: string;
  all: boolean;
  sort?: string;
}

function filterQuery(options: FilterOptions): Array<[string, string]> {
  const query: Array<[string, string]> = [];
  if (options.model) query.push(['model', options.model]);
  if (options.firmware) query.push(['firmware', options.firmware]);
  if (options.state) query.push(['state', options.state]);
  for (const tag of options.tag) query.push(['tag', tag]);
  if (options.where !== undefined) query.push(['where', options.where]);
  if (options.group !== undefined) query.push(['group', options.group]);
  return query;
}

/** The filter options `list` and `count` share. */
function addFilterOptions(command: Command): Command {
  return command
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option(
      '--where <query>',
      'fleet query, e.g. \'model = "tracker-2" and battery < 20\' (docs/fleet-query.md)',
    )
    .option('--group <name>', 'only devices of this saved group')
    .option('--model <model>', 'hardware model')
    .option('--firmware <version>', 'firmware version')
    .option('--state <state>', 'connection state: online or offline')
    .option('--tag <key=value>', 'tag filter, repeatable (all must match)', collect, [])
    .option('--json', 'print JSON for scripts', false);
}

interface OperationOptions {
  server: string;
  where?: string;
  group?: string;
  all: boolean;
  yes: boolean;
  json: boolean;
}

/** Target and confirmation options of group operations. */
function addOperationOptions(command: Command): Command {
  return command
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--where <query>', 'fleet query selecting the devices (docs/fleet-query.md)')
    .option('--all', 'every registered device', false)
    .option('--group <name>', 'the devices of this saved group (AND with --where)')
    .option('--yes', 'do it; without --yes only the dry run is shown', false)
    .option('--json', 'print JSON for scripts', false);
}

/** Dry run, or (with --yes) the operation itself. */
async function runOperation(options: OperationOptions, action: Record<string, unknown>): Promise<void> {
  if ((options.where === undefined && options.group === undefined) === !options.all)
    throw new InvalidArgumentError('choose the devices with --where QUERY and/or --group NAME, or --all');
  const result = await new ApiClient(options.server).post(
    '/api/v1/devices/operations',
    groupOperationResultSchema,
    {
      ...(options.where !== undefined ? { where: options.where } : {}),
      ...(options.group !== undefined ? { group: options.group } : {}),
      ...(options.all ? { all: true } : {}),
      action,
      dryRun: !options.yes,
    },
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(describeOperation(result));
}

function describeOperation(result: GroupOperationResult): string {
  const lines = result.dryRun
    ? [`dry run: ${result.matched} device(s) match; nothing changed (add --yes to apply)`]
    : [`${result.changed} of ${result.matched} matched device(s) changed`];
  if (result.group)
    lines.push(`static group ${result.group.name}${result.group.created ? ' (created)' : ''}`);
  for (const id of result.sample) lines.push(`  ${id}`);
  if (result.matched > result.sample.length)
    lines.push(`  … and ${result.matched - result.sample.length} more`);
  return `${lines.join('\n')}\n`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function row(d: Device): string[] {
  const tags = Object.entries(d.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    d.id,
    d.serial,
    d.hardwareModel ?? '-',
    d.hardwareRevision ?? '-',
    d.firmwareVersion ?? '-',
    d.region ?? '-',
    d.connectionState,
    d.lastSeenAt ?? '-',
    tags,
  ];
}

export function registerDevicesCommand(program: Command): void {
  const devices = program.command('devices').description('Query the device registry of a running server');

  addFilterOptions(devices.command('list').description('List devices, filtered; one page unless --all'))
    .option('--limit <n>', 'devices per page (1-1000)', '100')
    .option('--all', 'follow cursors and list every matching device', false)
    .option(
      '--sort <key>',
      'order: id, lastSeen, firmware, model or state; a leading - reverses (e.g. -lastSeen); devices without the value come last',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla devices list --model tracker-2 --state online --tag site=berlin --json\n' +
        '  flotilla devices list --all --where \'firmware < 2.4.0 and region in ("eu-west", "eu-north") and offline_for > 24h\'',
    )
    .action(async (options: ListOptions) => {
      const client = new ApiClient(options.server);
      const query: Array<[string, string]> = [['limit', options.limit], ...filterQuery(options)];
      if (options.sort !== undefined) query.push(['sort', options.sort]);
      const items: Device[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.get(
          '/api/v1/devices',
          devicePageSchema,
          cursor ? [...query, ['cursor', cursor]] : query,
        );
        items.push(...page.items);
        cursor = options.all ? page.nextCursor : undefined;
      } while (cursor);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
        return;
      }
      printTable(
        ['ID', 'SERIAL', 'MODEL', 'REV', 'FIRMWARE', 'REGION', 'STATE', 'LAST SEEN', 'TAGS'],
        items.map(row),
      );
      process.stderr.write(`${items.length} device(s)\n`);
    });

  addFilterOptions(
    devices.command('count').description('How many devices match; a dry run for group operations'),
  )
    .addHelpText('after', "\nExample:\n  flotilla devices count --where 'battery < 20 and not online'")
    .action(async (options: FilterOptions) => {
      const { count } = await new ApiClient(options.server).get(
        '/api/v1/devices/count',
        deviceCountSchema,
        filterQuery(options),
      );
      process.stdout.write(options.json ? `${JSON.stringify({ count })}\n` : `${count}\n`);
    });

  addOperationOptions(
    devices
      .command('tag')
      .description('Set or remove operator tags on every device a query selects (shows the devices first)'),
  )
    .option('--set <key=value>', 'tag to set, repeatable', collect, [])
    .option('--remove <key>', 'tag to remove, repeatable', collect, [])
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla devices tag --where \'region = "eu-west" and model = "tracker-2"\' --set ring=beta\n' +
        '  flotilla devices tag --group beta-fleet --remove ring --yes --json',
    )
    .action(async (options: OperationOptions & { set: string[]; remove: string[] }) => {
      const set: Record<string, string> = {};
      for (const pair of options.set) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new InvalidArgumentError(`--set ${JSON.stringify(pair)}: use key=value`);
        set[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      await runOperation(options, { type: 'tag', set, remove: options.remove });
    });

  addOperationOptions(
    devices
      .command('move')
      .description(
        'Move every device a query selects to a static group (created if missing); shows the devices first',
      ),
  )
    .requiredOption('--to-group <name>', 'the static group')
    .addHelpText(
      'after',
      '\nExample:\n  flotilla devices move --where \'serial in ("SN-1", "SN-2")\' --to-group pilot --yes',
    )
    .action(async (options: OperationOptions & { toGroup: string }) => {
      await runOperation(options, { type: 'move-to-group', group: options.toGroup });
    });

  devices
    .command('get')
    .description('Show one device')
    .argument('<id>', 'device id')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, options: { server: string; json: boolean }) => {
      const device = await new ApiClient(options.server).get(
        `/api/v1/devices/${encodeURIComponent(id)}`,
        deviceSchema,
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(device, null, 2)}\n`);
        return;
      }
      for (const [key, value] of Object.entries(device)) {
        process.stdout.write(
          `${key.padEnd(20)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}\n`,
        );
      }
    });

  devices
    .command('revoke')
    .description(
      'Revoke every credential of a device: it is disconnected at once, refused afterwards and listed in the CRL',
    )
    .argument('<id>', 'device id')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, options: { reason: string; server: string; json: boolean }) => {
      // The provisioning routes pull in the PKI: loaded only for this command.
      const { revokeResultSchema } = await import('../api/routes/provisioning.ts');
      const result = await new ApiClient(options.server).post(
        `/api/v1/devices/${encodeURIComponent(id)}/revoke`,
        revokeResultSchema,
        { reason: options.reason },
      );
      process.stdout.write(
        options.json
          ? `${JSON.stringify(result)}\n`
          : `device ${id} revoked: ${result.revokedCertificates.length} certificate(s)${result.disconnected ? ', live session closed' : ''}\n`,
      );
    });

  devices
    .command('label')
    .description("Render a device's owner-claim label: a QR code of its claim code with the serial beside it")
    .argument('<id>', 'device id')
    .requiredOption('--out <file>', 'output file; .svg or .png')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .addHelpText('after', '\nExample:\n  flotilla devices label TRK2-000123 --out TRK2-000123.png')
    .action(async (id: string, options: { out: string; server: string }) => {
      const format = extname(options.out).toLowerCase() === '.svg' ? 'svg' : 'png';
      const bytes = await new ApiClient(options.server).raw(
        `/api/v1/devices/${encodeURIComponent(id)}/label`,
        [['format', format]],
      );
      await writeFile(options.out, bytes);
      process.stderr.write(`label of ${id} written to ${options.out}\n`);
    });

  devices
    .command('audit')
    .description('Audit entries about a device (provisioning, renewals, revocation, owners), newest first')
    .argument('<id>', 'device id (or a batch id or serial)')
    .option('--action <action>', 'only this action, e.g. device.revoked')
    .option('--limit <n>', 'entries (1-1000)', '100')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(
      async (id: string, options: { action?: string; limit: string; server: string; json: boolean }) => {
        const query: Array<[string, string]> = [
          ['target', id],
          ['limit', options.limit],
        ];
        if (options.action) query.push(['action', options.action]);
        const { items } = await new ApiClient(options.server).get('/api/v1/audit', auditPageSchema, query);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
          return;
        }
        printTable(
          ['AT', 'ACTION', 'ACTOR', 'SOURCE', 'DETAILS'],
          items.map((e) => [e.at, e.action, e.actor, e.source, JSON.stringify(e.details)]),
        );
      },
    );
}
