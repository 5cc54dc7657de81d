/** `flotilla groups list|create|delete`: dynamic groups (saved fleet queries) of a running server. */
import type { Command } from 'commander';
import { z } from 'zod';
import { deviceGroupSchema } from '../contracts/device-group.ts';
import { groupListSchema } from '../api/routes/groups.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface Options {
  server: string;
  json: boolean;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;

export function registerGroupsCommand(program: Command): void {
  const groups = program
    .command('groups')
    .description('Dynamic groups: saved fleet queries, usable as group = "name" or --group');

  groups
    .command('list')
    .description('Every group and its query')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (options: Options) => {
      const { items } = await new ApiClient(options.server).get('/api/v1/groups', groupListSchema);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
        return;
      }
      printTable(
        ['NAME', 'QUERY', 'CREATED'],
        items.map((group) => [group.name, group.query, group.createdAt]),
      );
    });

  groups
    .command('create')
    .description('Save a fleet query under a name; the server checks the query first')
    .argument('<name>', 'group name, lower-case [a-z0-9_.-]')
    .requiredOption('--where <query>', 'the fleet query (docs/fleet-query.md)')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla groups create low-battery --where \'battery < 20 and model = "tracker-2"\'',
    )
    .action(async (name: string, options: Options & { where: string }) => {
      const group = await new ApiClient(options.server).post('/api/v1/groups', deviceGroupSchema, {
        name,
        query: options.where,
      });
      process.stdout.write(options.json ? `${JSON.stringify(group)}\n` : `group ${group.name} saved\n`);
    });

  groups
    .command('delete')
    .description('Delete a group; refused while another group refers to it')
    .argument('<name>', 'group name')
    .option(...serverOption, defaultServerUrl(process.env))
    .action(async (name: string, options: Options) => {
      await new ApiClient(options.server).delete(
        `/api/v1/groups/${encodeURIComponent(name)}`,
        z.object({ deleted: z.literal(true) }),
      );
      process.stdout.write(`group ${name} deleted\n`);
    });
}
