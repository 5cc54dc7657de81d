/**
 * Alert rules: what to watch, when it is bad, for how long, and how bad. Pure: the schema (the one
 * source of truth for the API, the store and the CLI) and the checks that refuse impossible
 * thresholds with the field named. Rules and defaults: docs/alerts.md, "Alert rules".
 */
import { z } from 'zod';
import { healthMetrics, METRIC_NAME_PATTERN } from '../../contracts/telemetry-messages.ts';
import { alertSeverities, type AlertSeverity } from '../alert.ts';

export const ruleTargets = ['device', 'fleet', 'group'] as const;
export type RuleTarget = (typeof ruleTargets)[number];

/** Metrics of one device (`telemetry.<name>` too): each device is a subject. */
export const deviceRuleMetrics = ['battery', 'signal', 'temperature', 'error_rate', 'offline_for'] as const;
/** Metrics of a population (the fleet, a saved group, a scope): the fleet summary's percentages. */
export const fleetRuleMetrics = ['online_pct', 'firmware_current_pct', 'error_rate'] as const;
export type FleetRuleMetric = (typeof fleetRuleMetrics)[number];

export const ruleOperators = ['<', '<=', '>', '>='] as const;
export type RuleOperator = (typeof ruleOperators)[number];

const durationPattern = /^([0-9]+(ms|s|m|h|d|w))+$/;
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
/** Longest `for` or `offline_for` threshold. */
const maxDurationMs = 366 * 86_400_000;

/** `1h30m` → 5,400,000. Undefined for anything else (negative, no unit, empty). */
export function durationMs(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  let total = 0;
  for (const [, count, unit] of text.matchAll(/([0-9]+)(ms|s|m|h|d|w)/g))
    total += Number(count) * unitMs[unit!]!;
  return total;
}

const durationText = (what: string) =>
  z
    .string()
    .max(32)
    .refine((text) => durationMs(text) !== undefined, `${what} is a duration ≥ 0 like 30s, 10m, 24h or 1h30m`)
    .refine((text) => (durationMs(text) ?? 0) <= maxDurationMs, `${what} is at most 366 days`);

export const ruleNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'rule names are lower-case [a-z0-9_.-], 1-63 chars');

const levelSchema = z.strictObject({
  severity: z.enum(alertSeverities),
  /** A number in the metric's unit; for `offline_for` a duration (`24h`). */
  threshold: z.union([z.number().finite(), z.string().max(32)]),
});
export type RuleLevel = z.infer<typeof levelSchema>;

/** The fields; `ruleObject` adds the defaults (a PATCH must not fill them in). */
const ruleFields = {
  name: ruleNameSchema,
  description: z.string().max(500),
  enabled: z.boolean(),
  target: z.enum(ruleTargets),
  /** device: battery, signal, temperature, error_rate, offline_for, telemetry.<name>; fleet/group: online_pct, firmware_current_pct, error_rate. */
  metric: z.string().min(1).max(80).optional(),
  operator: z.enum(ruleOperators).optional(),
  /** One level per severity, at most three; the most severe level a subject reaches decides the alert's severity. */
  levels: z.array(levelSchema).min(1).max(3).optional(),
  /** Device rules only, instead of metric/operator/levels: a fleet query a device must match. */
  query: z.string().min(1).max(4096).optional(),
  /** With `query`: the alert's severity. */
  severity: z.enum(alertSeverities).optional(),
  /** How long the condition must hold continuously before the alert opens (`0s`: at once). */
  for: durationText('for'),
  /** Or: on how many consecutive evaluations it must hold. */
  repeat: z.number().int().min(1, 'repeat is at least 1').max(1000),
  /** Only devices matching this fleet query are watched (device rules) or counted (fleet rules). */
  scope: z.string().min(1).max(4096).optional(),
  /** Group rules: the saved groups evaluated (each its own subject); all saved groups when absent. */
  groups: z.array(z.string().min(1).max(63)).max(100).optional(),
};

const ruleObject = z.strictObject({
  ...ruleFields,
  description: ruleFields.description.default(''),
  enabled: ruleFields.enabled.default(true),
  for: ruleFields.for.default('0s'),
  repeat: ruleFields.repeat.default(1),
});

/** A rule as stored and answered; `superRefine` refuses impossible thresholds, naming the field. */
export const alertRuleSchema = ruleObject.superRefine(checkRule);
export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;
/** PATCH: any field but the name. */
export const alertRulePatchSchema = z.strictObject(ruleFields).omit({ name: true }).partial();
export type AlertRulePatch = z.infer<typeof alertRulePatchSchema>;

/** The plausible range of a rule metric's threshold, or undefined when any number goes. */
export function thresholdRange(
  target: RuleTarget,
  metric: string,
): { min: number; max: number; unit: string } | undefined {
  if (target !== 'device' || metric === 'error_rate') return { min: 0, max: 100, unit: '%' };
  const health = deviceHealthMetric(metric);
  if (health === undefined) return undefined;
  const { min, max, unit } = healthMetrics[health];
  return { min, max, unit };
}

/** The telemetry metric a device rule metric reads (`battery` → `battery_pct`); undefined for the others. */
export function telemetryMetricOf(metric: string): string | undefined {
  switch (metric) {
    case 'battery':
      return 'battery_pct';
    case 'signal':
      return 'signal_dbm';
    case 'temperature':
      return 'temperature_c';
    default:
      return metric.startsWith('telemetry.') ? metric.slice('telemetry.'.length) : undefined;
  }
}

function deviceHealthMetric(metric: string): keyof typeof healthMetrics | undefined {
  const name = telemetryMetricOf(metric);
  return name !== undefined && name in healthMetrics ? (name as keyof typeof healthMetrics) : undefined;
}

type Ctx = z.RefinementCtx;
type RuleShape = z.infer<typeof ruleObject>;

const issue = (ctx: Ctx, path: Array<string | number>, message: string): void =>
  ctx.addIssue({ code: 'custom', path, message });

function checkRule(rule: RuleShape, ctx: Ctx): void {
  if (durationMs(rule.for) !== 0 && rule.repeat !== 1)
    issue(ctx, ['repeat'], 'give either a duration (for) or a repeat count, not both');
  if (rule.target !== 'group' && rule.groups !== undefined)
    issue(ctx, ['groups'], 'groups applies to group rules only');
  if (rule.query !== undefined) return checkQueryRule(rule, ctx);
  if (rule.severity !== undefined)
    issue(ctx, ['severity'], 'severity goes with query; metric rules use levels');
  if (rule.metric === undefined)
    return issue(ctx, ['metric'], 'a rule needs a metric (or, for device rules, a query)');
  if (rule.operator === undefined) issue(ctx, ['operator'], `operator is one of ${ruleOperators.join(' ')}`);
  if (rule.levels === undefined) return issue(ctx, ['levels'], 'levels: at least one {severity, threshold}');
  if (!checkMetric(rule.target, rule.metric, ctx)) return;
  checkLevels(rule, rule.metric, rule.levels, ctx);
}

function checkQueryRule(rule: RuleShape, ctx: Ctx): void {
  if (rule.target !== 'device') issue(ctx, ['query'], 'query conditions are for device rules');
  for (const field of ['metric', 'operator', 'levels'] as const)
    if (rule[field] !== undefined) issue(ctx, [field], `${field} does not go with query`);
  if (rule.severity === undefined) issue(ctx, ['severity'], 'a query rule needs a severity');
}

function checkMetric(target: RuleTarget, metric: string, ctx: Ctx): boolean {
  if (target === 'device') {
    const known = (deviceRuleMetrics as readonly string[]).includes(metric);
    const telemetry = metric.startsWith('telemetry.') && METRIC_NAME_PATTERN.test(metric.slice(10));
    if (known || telemetry) return true;
    issue(ctx, ['metric'], `device metrics: ${deviceRuleMetrics.join(', ')}, telemetry.<metric>`);
    return false;
  }
  if ((fleetRuleMetrics as readonly string[]).includes(metric)) return true;
  issue(ctx, ['metric'], `${target} metrics: ${fleetRuleMetrics.join(', ')}`);
  return false;
}

const severityRank: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

function checkLevels(rule: RuleShape, metric: string, levels: RuleLevel[], ctx: Ctx): void {
  const values: number[] = [];
  levels.forEach((level, index) => {
    const path = ['levels', index, 'threshold'];
    const value = thresholdValue(rule.target, metric, level.threshold);
    if (typeof value === 'string') return issue(ctx, path, value);
    values.push(value);
  });
  if (values.length !== levels.length) return;
  const seen = new Set(levels.map((level) => level.severity));
  if (seen.size !== levels.length) issue(ctx, ['levels'], 'one level per severity');
  // A more severe level must be further beyond the threshold: battery < 10 warning, < 5 critical.
  const below = rule.operator === '<' || rule.operator === '<=';
  const ordered = levels
    .map((level, index) => ({ rank: severityRank[level.severity], value: values[index]! }))
    .sort((a, b) => a.rank - b.rank);
  for (let i = 1; i < ordered.length; i++) {
    const [less, more] = [ordered[i - 1]!, ordered[i]!];
    if (below ? more.value > less.value : more.value < less.value)
      issue(ctx, ['levels'], 'a more severe level needs a threshold further beyond the condition');
  }
}

/** The threshold as a number (ms for offline_for), or the message why it is impossible. */
export function thresholdValue(
  target: RuleTarget,
  metric: string,
  threshold: number | string,
): number | string {
  if (target === 'device' && metric === 'offline_for') {
    const ms = typeof threshold === 'string' ? durationMs(threshold) : undefined;
    if (ms === undefined) return 'offline_for thresholds are durations ≥ 0 like 24h';
    return ms > maxDurationMs ? 'offline_for is at most 366 days' : ms;
  }
  if (typeof threshold !== 'number') return `${metric} thresholds are numbers`;
  const range = thresholdRange(target, metric);
  if (range !== undefined && (threshold < range.min || threshold > range.max))
    return `${metric} is between ${range.min} and ${range.max} ${range.unit}; ${threshold} can never be reached`;
  return threshold;
}

/** The most severe level `value` satisfies, or undefined when none. Levels are valid (checked). */
export function levelFor(
  rule: Pick<AlertRule, 'target' | 'metric' | 'operator' | 'levels'>,
  value: number,
): AlertSeverity | undefined {
  let best: AlertSeverity | undefined;
  for (const level of rule.levels ?? []) {
    const threshold = thresholdValue(rule.target, rule.metric ?? '', level.threshold);
    if (typeof threshold !== 'number' || !compare(value, rule.operator ?? '<', threshold)) continue;
    if (best === undefined || severityRank[level.severity] > severityRank[best]) best = level.severity;
  }
  return best;
}

export function compare(value: number, operator: RuleOperator, threshold: number): boolean {
  switch (operator) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/** The least severe level's threshold: what a device must pass to match at all (the SQL condition). */
export function entryThreshold(rule: AlertRule): number {
  const below = rule.operator === '<' || rule.operator === '<=';
  const values = (rule.levels ?? []).map((level) =>
    thresholdValue(rule.target, rule.metric ?? '', level.threshold),
  );
  const numbers = values.filter((value): value is number => typeof value === 'number');
  return below ? Math.max(...numbers) : Math.min(...numbers);
}
