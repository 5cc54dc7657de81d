/**
 * `flotilla config get|set|unset|defaults|group-set|bulk`: device configuration on a running
 * server (docs/device-config.md). Values are `key=value`; the value is read as JSON when it
 * parses (`30`, `true`, `"text"`, `[1,2]`), else as a string.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { ConfigValue } from '../contracts/config-messages.ts';
import {
  bulkResultSchema,
  configDefaultsSchema,
  defaultsChangeResultSchema,
  deviceConfigViewSchema,
  type DefaultsChangeResult,
  type DeviceConfigView,
} from '../device-config/config-api.ts';
import { ValidationError } from '../infra/errors.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface Common {
  server: string;
  json: boolean;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;
const collect = (value: string, previous: string[]): string[] => [...previous, value];
const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ValidationError(`not an integer: ${value}`);
  return n;
};

/** `key=value` pairs as values; ValidationError naming the argument without `=`. */
export function parseAssignments(pairs: readonly string[]): Record<string, ConfigValue> {
  const values: Record<string, ConfigValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`expected key=value, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: a plain string
    }
    values[pair.slice(0, eq)] = value as ConfigValue;
  }
  return values;
}

const text = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value));

function printView(view: DeviceConfigView): void {
  const keys = [
    ...new Set([...Object.keys(view.schema ?? {}), ...Object.keys(view.effective.values)]),
  ].sort();
  printTable(
    ['KEY', 'DESIRED', 'SOURCE', 'REPORTED', 'APPLY'],
    keys.map((key) => {
      const source = view.effective.sources[key];
      return [
        key,
        text(view.effective.values[key]),
        source === undefined ? '(default)' : source.kind === 'group' ? `group:${source.name}` : source.kind,
        text(view.reported?.values[key]),
        view.schema?.[key]?.apply ?? '',
      ];
    }),
  );
  process.stdout.write(
    `\ndesired v${view.desired.version}, sent v${view.sent.version}, reported ${view.reported ? `v${view.reported.version}` : 'never'}, ${view.inSync ? 'in sync' : 'NOT in sync'}\n`,
  );
  if (view.schema === null) process.stdout.write('the device has not declared its schema yet\n');
  if (view.pendingRestart.length > 0)
    process.stdout.write(`pending restart: ${view.pendingRestart.join(', ')}\n`);
  for (const r of view.rejected) process.stdout.write(`rejected by the device: ${r.key}: ${r.reason}\n`);
  for (const c of view.effective.conflicts)
    process.stdout.write(`not sent (schema): ${c.key}: ${c.reason}\n`);
}

function printDefaultsChange(result: DefaultsChangeResult): void {
  process.stdout.write(`${result.affected} devices affected\n`);
  for (const c of result.conflicts) process.stdout.write(`conflict: ${c.deviceId} ${c.key}: ${c.reason}\n`);
}

function out(json: boolean, value: unknown, human: () => void): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else human();
}

export function registerConfigCommand(program: Command): void {
  const config = program
    .command('config')
    .description('Device configuration: desired/reported documents, fleet and group defaults, bulk edits');
  const devicePath = (id: string) => `/api/v1/devices/${encodeURIComponent(id)}/config`;

  config
    .command('get')
    .description(
      "A device's effective config with each key's source, what it reported and whether it is in sync",
    )
    .argument('<deviceId>')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, options: Common) => {
      const view = await new ApiClient(options.server).get(devicePath(id), deviceConfigViewSchema);
      out(options.json, view, () => printView(view));
    });

  config
    .command('set')
    .description("Set keys of a device's own desired document (checked against the device's schema first)")
    .argument('<deviceId>')
    .argument('<key=value...>')
    .option('--expected-version <n>', 'refuse (409) unless the desired document is at this version', int)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla config set dev-1 telemetry.healthSampleS=30 log.level=debug',
    )
    .action(async (id: string, pairs: string[], options: Common & { expectedVersion?: number }) => {
      const view = await new ApiClient(options.server).put(devicePath(id), deviceConfigViewSchema, {
        set: parseAssignments(pairs),
        ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
      });
      out(options.json, view, () => printView(view));
    });

  config
    .command('unset')
    .description(
      "Remove keys from a device's own desired document (group/fleet defaults or the device default apply again)",
    )
    .argument('<deviceId>')
    .argument('<key...>')
    .option('--expected-version <n>', 'refuse (409) unless the desired document is at this version', int)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, keys: string[], options: Common & { expectedVersion?: number }) => {
      const view = await new ApiClient(options.server).put(devicePath(id), deviceConfigViewSchema, {
        unset: keys,
        ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
      });
      out(options.json, view, () => printView(view));
    });

  config
    .command('defaults')
    .description('Show the fleet and group defaults; with key=value or --unset, change the fleet defaults')
    .argument('[key=value...]')
    .option('--unset <key>', 'remove a key, repeatable', collect, [])
    .option('--delete', 'remove the fleet defaults altogether', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (pairs: string[], options: Common & { unset: string[]; delete: boolean }) => {
      const client = new ApiClient(options.server);
      if (options.delete) {
        const result = await client.delete('/api/v1/config/defaults', defaultsChangeResultSchema);
        return out(options.json, result, () => printDefaultsChange(result));
      }
      if (pairs.length > 0 || options.unset.length > 0) {
        const result = await client.put('/api/v1/config/defaults', defaultsChangeResultSchema, {
          set: parseAssignments(pairs),
          unset: options.unset,
        });
        return out(options.json, result, () => printDefaultsChange(result));
      }
      const all = await client.get(
        '/api/v1/config/defaults',
        z.object({ defaults: configDefaultsSchema.nullable(), groups: z.array(configDefaultsSchema) }),
      );
      return out(options.json, all, () =>
        printTable(
          ['SCOPE', 'PRIORITY', 'KEY', 'VALUE'],
          [...(all.defaults ? [all.defaults] : []), ...all.groups].flatMap((doc) =>
            Object.entries(doc.values).map(([key, value]) => [
              doc.scope === 'fleet' ? 'fleet' : `group:${doc.name}`,
              doc.scope === 'fleet' ? '' : String(doc.priority),
              key,
              text(value),
            ]),
          ),
        ),
      );
    });

  config
    .command('group-set')
    .description(
      "Set keys of a group's defaults (members whose schema refuses a key are listed as conflicts)",
    )
    .argument('<group>')
    .argument('[key=value...]')
    .option('--unset <key>', 'remove a key, repeatable', collect, [])
    .option('--priority <n>', 'higher wins over other groups; ties go by group name (later wins)', int)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(
      async (group: string, pairs: string[], options: Common & { unset: string[]; priority?: number }) => {
        const result = await new ApiClient(options.server).put(
          `/api/v1/config/groups/${encodeURIComponent(group)}`,
          defaultsChangeResultSchema,
          {
            set: parseAssignments(pairs),
            unset: options.unset,
            ...(options.priority !== undefined ? { priority: options.priority } : {}),
          },
        );
        out(options.json, result, () => printDefaultsChange(result));
      },
    );

  config
    .command('bulk')
    .description(
      'Set/unset keys in the own documents of many devices; devices whose schema refuses it are left out and listed',
    )
    .argument('[key=value...]')
    .option('--where <query>', 'fleet query (docs/fleet-query.md)')
    .option('--group <name>', 'saved group')
    .option('--ids <a,b,...>', 'device ids, comma-separated')
    .option('--unset <key>', 'remove a key, repeatable', collect, [])
    .option('--dry-run', 'count, list and check only', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla config bulk --group berlin heartbeat.intervalS=30 --dry-run',
    )
    .action(
      async (
        pairs: string[],
        options: Common & { where?: string; group?: string; ids?: string; unset: string[]; dryRun: boolean },
      ) => {
        const result = await new ApiClient(options.server).post('/api/v1/config/bulk', bulkResultSchema, {
          ...(options.where !== undefined ? { where: options.where } : {}),
          ...(options.group !== undefined ? { group: options.group } : {}),
          ...(options.ids !== undefined
            ? { deviceIds: options.ids.split(',').filter((id) => id !== '') }
            : {}),
          set: parseAssignments(pairs),
          unset: options.unset,
          dryRun: options.dryRun,
        });
        out(options.json, result, () => {
          process.stdout.write(
            `${result.dryRun ? 'dry run: ' : ''}${result.matched} matched, ${result.changed} changed, ${result.conflictedDevices} refused by their schema\n`,
          );
          if (result.sample.length > 0) process.stdout.write(`first: ${result.sample.join(', ')}\n`);
          for (const c of result.conflicts)
            process.stdout.write(`conflict: ${c.deviceId} ${c.key}: ${c.reason}\n`);
          if (result.notFound.length > 0) process.stdout.write(`not found: ${result.notFound.join(', ')}\n`);
        });
      },
    );
}
