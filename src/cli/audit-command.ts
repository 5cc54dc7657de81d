/** `flotilla audit list|export`: the audit log of a running server, filtered, paged or exported. */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { z } from 'zod';
import { auditPageSchema } from '../api/routes/audit.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface FilterFlags {
  actor?: string;
  action?: string;
  actionPrefix?: string;
  target?: string;
  source?: string;
  from?: string;
  to?: string;
  server: string;
}

function addFilterOptions(command: Command): Command {
  return command
    .option('--actor <actor>', 'who: api, cli, device:<id>, …')
    .option('--action <action>', 'exactly this action, e.g. device.revoked')
    .option('--action-prefix <prefix>', 'actions starting with this, e.g. alert.')
    .option('--target <target>', 'the object: a device id, batch id, serial, rollout id, …')
    .option('--source <source>', 'from where: a remote address, or local')
    .option('--from <time>', 'at or after this time (ISO 8601 or ms since the epoch)')
    .option('--to <time>', 'before this time (exclusive)')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env));
}

function filterQuery(flags: FilterFlags): Array<[string, string]> {
  const pairs: Array<[string, string | undefined]> = [
    ['actor', flags.actor],
    ['action', flags.action],
    ['actionPrefix', flags.actionPrefix],
    ['target', flags.target],
    ['source', flags.source],
    ['from', flags.from],
    ['to', flags.to],
  ];
  return pairs.filter((pair): pair is [string, string] => pair[1] !== undefined);
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('The audit log: who did what to which object, when');

  addFilterOptions(audit.command('list').description('Audit entries, newest first; one page unless --all'))
    .option('--limit <n>', 'entries per page (1-1000)', '100')
    .option('--all', 'follow cursors and list every matching entry', false)
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla audit list --action-prefix alert. --from 2026-11-01T00:00:00Z\n' +
        '  flotilla audit list --actor api --target dev-42 --all --json',
    )
    .action(async (flags: FilterFlags & { limit: string; all: boolean; json: boolean }) => {
      const client = new ApiClient(flags.server);
      const query: Array<[string, string]> = [['limit', flags.limit], ...filterQuery(flags)];
      const items: z.output<typeof auditPageSchema>['items'] = [];
      let cursor: string | undefined;
      do {
        const page = await client.get(
          '/api/v1/audit',
          auditPageSchema,
          cursor ? [...query, ['cursor', cursor]] : query,
        );
        items.push(...page.items);
        cursor = flags.all ? page.nextCursor : undefined;
      } while (cursor);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
        return;
      }
      printTable(
        ['AT', 'ACTION', 'TARGET', 'ACTOR', 'SOURCE', 'DETAILS'],
        items.map((e) => [e.at, e.action, e.target, e.actor, e.source, JSON.stringify(e.details)]),
      );
      process.stderr.write(`${items.length} entr${items.length === 1 ? 'y' : 'ies'}\n`);
    });

  addFilterOptions(
    audit.command('export').description('Every matching audit entry, oldest first, as JSON lines or CSV'),
  )
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla audit export --format csv --out audit-2026-11.csv --from 2026-11-01 --to 2026-12-01\n' +
        '  flotilla audit export --actor api | jq .action',
    )
    .action(async (flags: FilterFlags & { format: string; out?: string }) => {
      const body = await new ApiClient(flags.server).stream('/api/v1/audit/export', [
        ['format', flags.format],
        ...filterQuery(flags),
      ]);
      const sink: Writable = flags.out === undefined ? process.stdout : createWriteStream(flags.out);
      await pipeline(Readable.fromWeb(body), sink);
      if (flags.out !== undefined) process.stderr.write(`audit log written to ${flags.out}\n`);
    });
}
