/**
 * The fleet benchmarks' further measurements on a seeded fleet: the fleet summary (the whole
 * fleet and one region) and one evaluation cycle of the shipped alert rules and of the anomaly
 * detectors, through the real services over the bench's stores.
 */
import pino from 'pino';
import { createAlertService } from '../src/alerts/alert-service.ts';
import { createAlertRuleService } from '../src/alerts/rules/alert-rule-service.ts';
import { createRuleCycle, type RuleOutcome } from '../src/alerts/rules/rule-cycle.ts';
import { anomalyConfigSchema } from '../src/anomaly/anomaly-config.ts';
import { createAnomalyEvaluator, type EvaluationSummary } from '../src/anomaly/anomaly-evaluator.ts';
import { computeFleetSummary, type FleetMetricsSummary } from '../src/fleet-metrics/fleet-summary.ts';
import { parseFleetQuery } from '../src/fleet-query/index.ts';
import { GroupService } from '../src/groups/group-service.ts';
import type { FleetProbe } from './fleet.ts';

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

export const fleetProbes: FleetProbe = async (fleet, nowMs) => {
  const logger = pino({ level: 'silent' });
  const clock = { now: () => nowMs };
  const { stores } = fleet;
  const alerts = createAlertService({ store: stores.alerts, audit: stores.provisioning, clock, logger });
  const groups = new GroupService({ groups: stores.groups, clock });
  // The current release of the main model: a quarter of the fleet (firmware 2.5.0) runs it.
  await stores.releases.createRelease(
    {
      version: '2.5.0',
      hardwareModel: 'bench-tracker',
      hardwareRevisions: ['A'],
      sha256: 'b'.repeat(64),
      size: 1_048_576,
      security: false,
      minVersion: null,
      mandatory: false,
      notes: 'bench',
      createdBy: 'bench',
    },
    nowMs,
  );
  await createAlertRuleService({
    store: stores.alertRules,
    groups,
    alerts,
    audit: stores.provisioning,
    clock,
    logger,
  }).seedDefaults();
  const cycle = createRuleCycle({
    rules: stores.alertRules,
    metrics: stores.fleetMetrics,
    groups,
    alerts,
    clock,
    logger,
  });
  const anomalies = createAnomalyEvaluator(
    { store: stores.anomaly, alerts, logger },
    anomalyConfigSchema.parse({}),
    nowMs - 3_600_000,
  );
  const summaryDetail = (result: unknown) => {
    const s = result as FleetMetricsSummary;
    return `${fmt(s.total)} devices, ${fmt(s.devices.onlinePct ?? 0)} % online, ${s.firmware.versions.length} versions, ${fmt(s.firmware.currentPct ?? 0)} % current`;
  };
  return {
    'fleet summary': {
      run: () => computeFleetSummary(stores.fleetMetrics, { nowMs }),
      detail: summaryDetail,
    },
    'fleet summary, one region': {
      run: () =>
        computeFleetSummary(stores.fleetMetrics, { nowMs, where: parseFleetQuery('region = "eu-west"') }),
      detail: summaryDetail,
    },
    'alert rules: one cycle of the 6 shipped rules': {
      run: () => cycle.run(),
      detail: (result) => {
        const outcomes = result as RuleOutcome[];
        const matches = outcomes.reduce((sum, o) => sum + o.matches, 0);
        const failed = outcomes.filter((o) => o.error !== undefined).length;
        return `${fmt(matches)} matching subjects (held as pending: the shipped durations)${failed > 0 ? `, ${failed} failed` : ''}`;
      },
    },
    'anomaly detection: one evaluation': {
      run: () => anomalies.evaluate(nowMs),
      detail: (result) => {
        const e = result as EvaluationSummary;
        return `${fmt(e.peerGroupsJudged)} peer groups judged, ${fmt(e.droppedDevices)} recently dropped devices (no raw windows seeded)`;
      },
    },
  };
};
