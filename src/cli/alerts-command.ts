/** `flotilla alerts list|show|ack|resolve`: alerts from the shell. */
import type { Command } from 'commander';
import { z } from 'zod';
import { notificationSchema } from '../api/routes/alert-notifications.ts';
import { alertEventSchema, alertSchema } from '../api/routes/alerts.ts';
import { registerAlertRulesCommand } from './alert-rules-command.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface CommonFlags {
  server: string;
  json: boolean;
}

interface ListFlags extends CommonFlags {
  state?: string;
  severity?: string;
  rule?: string;
  limit: string;
  all: boolean;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

export function registerAlertsCommand(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('Alerts: what needs attention, acknowledged by whom, resolved when');

  alerts
    .command('list')
    .description('Alerts, newest first (unresolved only unless --all or --state)')
    .option('--state <state>', 'open, acknowledged, resolved or unresolved')
    .option('--severity <severity>', 'info, warning or critical')
    .option('--rule <rule>', 'only alerts of this rule, e.g. rollout.gate-failed')
    .option('--all', 'resolved alerts too', false)
    .option('--limit <n>', 'how many', '100')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla alerts list\n  flotilla alerts list --severity critical --json',
    )
    .action(async (flags: ListFlags) => {
      const state = flags.state ?? (flags.all ? undefined : 'unresolved');
      const query: Array<[string, string]> = [['limit', flags.limit]];
      if (state !== undefined) query.push(['state', state]);
      if (flags.severity !== undefined) query.push(['severity', flags.severity]);
      if (flags.rule !== undefined) query.push(['rule', flags.rule]);
      const page = await new ApiClient(flags.server).get(
        '/api/v1/alerts',
        z.object({ items: z.array(alertSchema), nextCursor: z.string().optional() }),
        query,
      );
      if (flags.json) return printJson(page);
      printTable(
        ['ALERT', 'SEVERITY', 'STATE', 'SUBJECT', 'TITLE', 'OPENED', 'RAISED'],
        page.items.map((a) => [
          a.id,
          a.severity,
          a.state,
          `${a.subject.kind}:${a.subject.id}`,
          a.title,
          iso(a.openedAtMs),
          String(a.raiseCount),
        ]),
      );
    });

  alerts
    .command('show')
    .description('One alert with its detail and history')
    .argument('<id>', 'alert id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const view = await new ApiClient(flags.server).get(
        `/api/v1/alerts/${encodeURIComponent(id)}`,
        z.object({ alert: alertSchema, history: z.array(alertEventSchema) }),
      );
      if (flags.json) return printJson(view);
      const a = view.alert;
      process.stdout.write(
        `${a.id}  ${a.severity}  ${a.state}  ${a.subject.kind}:${a.subject.id}\n${a.title}\n${a.detail}\n\n`,
      );
      for (const event of view.history)
        process.stdout.write(
          `${iso(event.atMs)}  ${event.actor}  ${event.kind}${event.note ? `: ${event.note}` : ''}\n`,
        );
    });

  alerts
    .command('notifications')
    .description('The escalation steps and notifications of an alert (channel, state, attempts, last error)')
    .argument('<id>', 'alert id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const view = await new ApiClient(flags.server).get(
        `/api/v1/alerts/${encodeURIComponent(id)}/notifications`,
        z.object({ items: z.array(notificationSchema) }),
      );
      if (flags.json) return printJson(view);
      printTable(
        ['DUE', 'STEP', 'CHANNEL', 'KIND', 'STATE', 'ATTEMPTS', 'LAST ERROR'],
        view.items.map((n) => [
          iso(n.dueAtMs),
          n.step,
          n.channel,
          n.kind,
          n.state,
          String(n.attempts),
          n.lastError ?? '',
        ]),
      );
    });

  for (const [command, action, description] of [
    ['ack', 'acknowledge', 'Acknowledge an open alert (stops its escalation)'],
    ['resolve', 'resolve', 'Resolve an alert'],
  ] as const) {
    alerts
      .command(command)
      .description(description)
      .argument('<id>', 'alert id')
      .option('--note <text>', 'why (kept in the history and the audit log)')
      .option(...serverOption, defaultServerUrl(process.env))
      .option('--json', 'print JSON for scripts', false)
      .action(async (id: string, flags: CommonFlags & { note?: string }) => {
        const a = await new ApiClient(flags.server).post(
          `/api/v1/alerts/${encodeURIComponent(id)}/${action}`,
          alertSchema,
          flags.note !== undefined ? { note: flags.note } : {},
        );
        if (flags.json) return printJson(a);
        process.stdout.write(`${a.id}: ${a.state}\n`);
      });
  }

  registerAlertRulesCommand(alerts);
}
