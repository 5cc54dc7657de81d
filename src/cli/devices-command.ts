/** `flotilla devices list|get`: the registry from the command line, as a table or JSON. */
import type { Command } from 'commander';
import { deviceSchema, type Device } from '../contracts/device.ts';
import { devicePageSchema } from '../api/routes/devices.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface ListOptions {
  server: string;
  model?: string;
  firmware?: string;
  state?: string;
  tag: string[];
  limit: string;
  all: boolean;
  json: boolean;
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

  devices
    .command('list')
    .description('List devices, filtered; one page unless --all')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--model <model>', 'hardware model')
    .option('--firmware <version>', 'firmware version')
    .option('--state <state>', 'connection state: online or offline')
    .option('--tag <key=value>', 'tag filter, repeatable (all must match)', collect, [])
    .option('--limit <n>', 'devices per page (1-1000)', '100')
    .option('--all', 'follow cursors and list every matching device', false)
    .option('--json', 'print JSON (one object with items) for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla devices list --model tracker-2 --state online --tag site=berlin --json',
    )
    .action(async (options: ListOptions) => {
      const client = new ApiClient(options.server);
      const query: Array<[string, string]> = [['limit', options.limit]];
      if (options.model) query.push(['model', options.model]);
      if (options.firmware) query.push(['firmware', options.firmware]);
      if (options.state) query.push(['state', options.state]);
      for (const tag of options.tag) query.push(['tag', tag]);
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
}
