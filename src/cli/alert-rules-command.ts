/** `flotilla alerts rules list|show|create|update|delete|enable|disable`: alert rules from the shell. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { alertRuleListSchema, storedAlertRuleSchema } from '../api/routes/alert-rules.ts';
import type { AlertRule } from '../alerts/rules/alert-rule.ts';
import { ValidationError } from '../infra/errors.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface CommonFlags {
  server: string;
  json: boolean;
}

interface RuleFlags extends CommonFlags {
  file?: string;
  target?: string;
  metric?: string;
  operator?: string;
  level: string[];
  query?: string;
  severity?: string;
  for?: string;
  repeat?: string;
  scope?: string;
  group: string[];
  description?: string;
  disabled?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `warning=10` → {severity, threshold}; a threshold that is not a number stays text (`24h`). */
function parseLevel(text: string): { severity: string; threshold: number | string } {
  const [severity, threshold] = text.split('=', 2);
  if (!severity || threshold === undefined || threshold === '')
    throw new ValidationError(`--level is severity=threshold, e.g. warning=10 (got ${text})`, {
      level: text,
    });
  const number = Number(threshold);
  return { severity, threshold: threshold.trim() !== '' && Number.isFinite(number) ? number : threshold };
}

/** The fields the flags give (a PATCH body, or with the name a new rule). */
async function fieldsFrom(flags: RuleFlags): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = flags.file
    ? (JSON.parse(await readFile(flags.file, 'utf8')) as Record<string, unknown>)
    : {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) fields[key] = value;
  };
  set('target', flags.target);
  set('metric', flags.metric);
  set('operator', flags.operator);
  if (flags.level.length > 0) fields['levels'] = flags.level.map(parseLevel);
  set('query', flags.query);
  set('severity', flags.severity);
  set('for', flags.for);
  set('repeat', flags.repeat === undefined ? undefined : Number(flags.repeat));
  set('scope', flags.scope);
  if (flags.group.length > 0) fields['groups'] = flags.group;
  set('description', flags.description);
  if (flags.disabled) fields['enabled'] = false;
  return fields;
}

function condition(rule: AlertRule): string {
  if (rule.query !== undefined) return `${rule.query} → ${rule.severity ?? ''}`;
  const levels = (rule.levels ?? []).map(
    (l) => `${l.severity} ${rule.operator ?? ''} ${String(l.threshold)}`,
  );
  return `${rule.metric ?? ''}: ${levels.join(', ')}`;
}

function withRuleOptions(command: Command): Command {
  return command
    .option('--file <rule.json>', 'the rule as JSON (flags override its fields)')
    .option('--target <target>', 'device, fleet or group')
    .option(
      '--metric <metric>',
      'device: battery, signal, temperature, error_rate, offline_for, telemetry.<name>; fleet/group: online_pct, firmware_current_pct, error_rate',
    )
    .option('--operator <op>', '<, <=, > or >=')
    .option(
      '--level <severity=threshold>',
      'a severity level, repeatable: --level warning=10 --level critical=5',
      collect,
      [],
    )
    .option('--query <query>', 'device rules: a fleet query the device must match (instead of a metric)')
    .option('--severity <severity>', 'with --query: info, warning or critical')
    .option('--for <duration>', 'how long the condition must hold, e.g. 10m')
    .option('--repeat <n>', 'or: on how many consecutive evaluations')
    .option('--scope <query>', 'only devices matching this fleet query')
    .option(
      '--group <name>',
      'group rules: a saved group to evaluate, repeatable (default: all)',
      collect,
      [],
    )
    .option('--description <text>', 'what the rule is for')
    .option('--disabled', 'create or leave it disabled');
}

export function registerAlertRulesCommand(alerts: Command): void {
  const rules = alerts
    .command('rules')
    .description('Alert rules: metric, condition, duration, severity, scope (docs/alerts.md)');
  const serverOption = [
    '--server <url>',
    'management API URL (env FLOTILLA_URL)',
    defaultServerUrl(process.env),
  ] as const;
  const path = (name: string) => `/api/v1/alert-rules/${encodeURIComponent(name)}`;

  rules
    .command('list')
    .description('Every rule with its condition')
    .option(...serverOption)
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: CommonFlags) => {
      const list = await new ApiClient(flags.server).get('/api/v1/alert-rules', alertRuleListSchema);
      if (flags.json) return printJson(list);
      printTable(
        ['RULE', 'TARGET', 'ENABLED', 'CONDITION', 'FOR', 'ORIGIN'],
        list.items.map(({ rule, origin }) => [
          rule.name,
          rule.target,
          rule.enabled ? 'yes' : 'no',
          condition(rule),
          rule.repeat > 1 ? `${rule.repeat}×` : rule.for,
          origin,
        ]),
      );
    });

  rules
    .command('show')
    .description('One rule as JSON')
    .argument('<name>', 'rule name')
    .option(...serverOption)
    .option('--json', 'print JSON for scripts (the default)', true)
    .action(async (name: string, flags: CommonFlags) => {
      printJson(await new ApiClient(flags.server).get(path(name), storedAlertRuleSchema));
    });

  withRuleOptions(rules.command('create'))
    .description('Create a rule; impossible thresholds are refused naming the field')
    .argument('<name>', 'rule name, lower-case [a-z0-9_.-]')
    .option(...serverOption)
    .option('--json', 'print JSON for scripts', false)
    .addHelpText(
      'after',
      "\nExamples:\n  flotilla alerts rules create temp-high --metric temperature --operator '>' --level warning=70 --level critical=85 --for 5m\n  flotilla alerts rules create eu-offline --target fleet --metric online_pct --operator '<' --level warning=90 --scope 'region = \"eu-west\"'\n  flotilla alerts rules create stale --query 'offline_for > 7d and tag.ring = \"beta\"' --severity info",
    )
    .action(async (name: string, flags: RuleFlags) => {
      const body = { target: 'device', ...(await fieldsFrom(flags)), name };
      const stored = await new ApiClient(flags.server).post(
        '/api/v1/alert-rules',
        storedAlertRuleSchema,
        body,
      );
      if (flags.json) return printJson(stored);
      process.stdout.write(`rule ${stored.rule.name} created\n`);
    });

  withRuleOptions(rules.command('update'))
    .description('Change fields of a rule (only the flags given)')
    .argument('<name>', 'rule name')
    .option(...serverOption)
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, flags: RuleFlags) => {
      const stored = await new ApiClient(flags.server).patch(
        path(name),
        storedAlertRuleSchema,
        await fieldsFrom(flags),
      );
      if (flags.json) return printJson(stored);
      process.stdout.write(`rule ${stored.rule.name} updated\n`);
    });

  for (const [command, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    rules
      .command(command)
      .description(enabled ? 'Enable a rule' : 'Disable a rule (its alerts are resolved)')
      .argument('<name>', 'rule name')
      .option(...serverOption)
      .option('--json', 'print JSON for scripts', false)
      .action(async (name: string, flags: CommonFlags) => {
        const stored = await new ApiClient(flags.server).patch(path(name), storedAlertRuleSchema, {
          enabled,
        });
        if (flags.json) return printJson(stored);
        process.stdout.write(`rule ${stored.rule.name} ${enabled ? 'enabled' : 'disabled'}\n`);
      });
  }

  rules
    .command('delete')
    .description('Delete a rule (its alerts are resolved)')
    .argument('<name>', 'rule name')
    .option(...serverOption)
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, flags: CommonFlags) => {
      const result = await new ApiClient(flags.server).delete(
        path(name),
        z.object({ deleted: z.literal(true) }),
      );
      if (flags.json) return printJson(result);
      process.stdout.write(`rule ${name} deleted\n`);
    });
}
