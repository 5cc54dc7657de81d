/**
 * One evaluation cycle over every rule: read what each rule's condition matches now (one query per
 * device rule, a few aggregates per fleet or group subject), decide with rule-evaluator.ts, raise
 * and clear alerts, then write the changed subject states. Callable on its own over a store, so
 * the bench can time a cycle. A rule that fails (a scope naming a deleted group) is logged and
 * skipped; the others still run.
 */
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { errorWindowStartMs } from '../../fleet-metrics/fleet-summary.ts';
import type { FleetQuery } from '../../fleet-query/index.ts';
import type { GroupService } from '../../groups/group-service.ts';
import type { Clock } from '../../infra/clock.ts';
import type { AlertRuleStore } from '../../store/alert-rule-types.ts';
import type { DeviceCondition, FleetMetricsStore, MetricsScope } from '../../store/fleet-metrics-types.ts';
import type { AlertSubject } from '../alert.ts';
import type { AlertService } from '../alert-service.ts';
import {
  durationMs,
  entryThreshold,
  levelFor,
  telemetryMetricOf,
  type AlertRule,
  type FleetRuleMetric,
} from './alert-rule.ts';
import { decideRule, type Observation, type RuleDecision } from './rule-evaluator.ts';

export interface RuleCycleDeps {
  rules: AlertRuleStore;
  metrics: FleetMetricsStore;
  groups: Pick<GroupService, 'parse' | 'list' | 'deviceQuery'>;
  alerts: Pick<AlertService, 'raise' | 'clear'>;
  clock: Clock;
  logger: Logger;
  /** Registers `flotilla_alert_evaluation_duration_seconds` and `flotilla_alert_rule_matches`. */
  registry?: Registry;
  /** A monotonic ms reading for the duration histogram; performance.now by default. */
  elapsedMs?: () => number;
}

export interface RuleOutcome {
  rule: string;
  matches: number;
  raised: number;
  cleared: number;
  error?: string;
}

export function createRuleCycle(deps: RuleCycleDeps) {
  const elapsedMs = deps.elapsedMs ?? (() => performance.now());
  const metrics = deps.registry && registerMetrics(deps.registry);

  async function evaluateRule(rule: AlertRule, nowMs: number): Promise<RuleOutcome> {
    const matches = rule.enabled ? await observe(rule, nowMs) : [];
    const forMs = durationMs(rule.for) ?? 0;
    const decision = decideRule(
      { forMs, repeat: rule.repeat },
      await deps.rules.ruleStates(rule.name),
      matches,
      nowMs,
    );
    await apply(rule, decision);
    await deps.rules.saveRuleStates(rule.name, decision.upsert, decision.remove, nowMs);
    return {
      rule: rule.name,
      matches: matches.length,
      raised: decision.raise.length,
      cleared: decision.clear.length,
    };
  }

  async function apply(rule: AlertRule, decision: RuleDecision): Promise<void> {
    // Alerts first: if the state write then fails, the next cycle raises again (de-duplicated).
    for (const raise of decision.raise) await deps.alerts.raise(alertOf(rule, raise));
    const note = rule.enabled ? 'condition cleared' : 'rule disabled';
    for (const subject of decision.clear) await deps.alerts.clear(rule.name, subject, note);
  }

  async function observe(rule: AlertRule, nowMs: number): Promise<Observation[]> {
    const scope = rule.scope === undefined ? undefined : await deps.groups.parse(rule.scope);
    if (rule.target === 'device') return observeDevices(rule, { ...(scope ? { where: scope } : {}), nowMs });
    const subjects: Array<{ subject: AlertSubject; where: FleetQuery | undefined }> = [];
    if (rule.target === 'fleet') subjects.push({ subject: { kind: 'fleet', id: 'fleet' }, where: scope });
    else
      for (const group of await deps.groups.list()) {
        if (rule.groups !== undefined && !rule.groups.includes(group.name)) continue;
        subjects.push({
          subject: { kind: 'group', id: group.name },
          where: and(await deps.groups.deviceQuery(undefined, group.name), scope),
        });
      }
    const observations: Observation[] = [];
    for (const { subject, where } of subjects) {
      const value = await fleetValue(rule.metric as FleetRuleMetric, { ...(where ? { where } : {}), nowMs });
      const severity = value === null ? undefined : levelFor(rule, value);
      if (severity !== undefined) observations.push({ subject, severity, value });
    }
    return observations;
  }

  async function observeDevices(rule: AlertRule, scope: MetricsScope): Promise<Observation[]> {
    const matches = await deps.metrics.matchDevices(await deviceCondition(rule, scope.nowMs), scope);
    const observations: Observation[] = [];
    for (const match of matches) {
      const severity =
        rule.query !== undefined
          ? rule.severity
          : match.value === null
            ? undefined
            : levelFor(rule, match.value);
      if (severity !== undefined)
        observations.push({ subject: { kind: 'device', id: match.deviceId }, severity, value: match.value });
    }
    return observations;
  }

  async function deviceCondition(rule: AlertRule, nowMs: number): Promise<DeviceCondition> {
    if (rule.query !== undefined) return { kind: 'query', query: await deps.groups.parse(rule.query) };
    const operator = rule.operator ?? '<';
    const threshold = entryThreshold(rule);
    if (rule.metric === 'offline_for') return { kind: 'offline', operator, thresholdMs: threshold };
    if (rule.metric === 'error_rate')
      return { kind: 'error_rate', operator, thresholdPct: threshold, fromMs: errorWindowStartMs(nowMs) };
    return { kind: 'telemetry', metric: telemetryMetricOf(rule.metric ?? '') ?? '', operator, threshold };
  }

  async function fleetValue(metric: FleetRuleMetric, scope: MetricsScope): Promise<number | null> {
    const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);
    switch (metric) {
      case 'online_pct': {
        const counts = await deps.metrics.countDevices(scope);
        return pct(counts.online, counts.total);
      }
      case 'firmware_current_pct': {
        const current = await deps.metrics.currentRelease(scope);
        return pct(current.onCurrent, current.withRelease);
      }
      case 'error_rate': {
        const totals = await deps.metrics.errorTotals(scope, errorWindowStartMs(scope.nowMs));
        return pct(totals.errors, totals.samples);
      }
    }
  }

  return {
    evaluateRule,
    /** Evaluates every rule once at the clock's time. */
    async run(): Promise<RuleOutcome[]> {
      const started = elapsedMs();
      const nowMs = deps.clock.now();
      const outcomes: RuleOutcome[] = [];
      for (const { rule } of await deps.rules.listRules()) {
        try {
          outcomes.push(await evaluateRule(rule, nowMs));
        } catch (err) {
          deps.logger.error({ err, rule: rule.name }, 'alert rule evaluation failed');
          outcomes.push({
            rule: rule.name,
            matches: 0,
            raised: 0,
            cleared: 0,
            error: (err as Error).message,
          });
        }
      }
      metrics?.record(outcomes, (elapsedMs() - started) / 1000);
      return outcomes;
    },
  };
}

export type RuleCycle = ReturnType<typeof createRuleCycle>;

function and(left: FleetQuery | undefined, right: FleetQuery | undefined): FleetQuery | undefined {
  if (left === undefined || right === undefined) return left ?? right;
  return {
    text: `(${left.text}) and (${right.text})`,
    root: { kind: 'and', left: left.root, right: right.root },
  };
}

type Raise = RuleDecision['raise'][number];

function alertOf(rule: AlertRule, raise: Raise) {
  const metric = rule.query !== undefined ? `matches ${rule.query}` : (rule.metric ?? '');
  const level = rule.levels?.find((l) => l.severity === raise.severity);
  const shown = raise.value === null ? '' : ` ${formatValue(rule, raise.value)}`;
  const condition = level === undefined ? '' : ` ${rule.operator ?? ''} ${String(level.threshold)}`;
  const title = `${rule.name}: ${metric}${shown}${condition}`.slice(0, 200);
  const held =
    rule.repeat > 1 ? `on ${rule.repeat} evaluations` : `since ${new Date(raise.sinceMs).toISOString()}`;
  return {
    rule: rule.name,
    severity: raise.severity,
    subject: raise.subject,
    title,
    detail: `${rule.description ? `${rule.description}. ` : ''}Condition held ${held}.`.slice(0, 4000),
    details: {
      metric: rule.metric ?? null,
      query: rule.query ?? null,
      operator: rule.operator ?? null,
      threshold: level?.threshold ?? null,
      value: raise.value,
      sinceMs: raise.sinceMs,
      for: rule.for,
      repeat: rule.repeat,
    },
  };
}

function formatValue(rule: AlertRule, value: number): string {
  if (rule.metric === 'offline_for') return `${Math.round(value / 3_600_000)}h`;
  return String(Math.round(value * 100) / 100);
}

function registerMetrics(registry: Registry) {
  const duration = new Histogram({
    name: 'flotilla_alert_evaluation_duration_seconds',
    help: 'Duration of one alert-rule evaluation cycle (every rule)',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [registry],
  });
  const matches = new Gauge({
    name: 'flotilla_alert_rule_matches',
    help: 'Subjects (devices, groups, the fleet) each rule matched in the last cycle',
    labelNames: ['rule'],
    registers: [registry],
  });
  return {
    record(outcomes: readonly RuleOutcome[], seconds: number): void {
      duration.observe(seconds);
      // Reset first, so a deleted rule's series disappears.
      matches.reset();
      for (const outcome of outcomes) matches.set({ rule: outcome.rule }, outcome.matches);
    },
  };
}
