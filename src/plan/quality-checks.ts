/**
 * The quality checks: each passes or fails on the evidence of the (planned or live) configuration,
 * and says which. Pure.
 */
import type { AlertSeverity } from '../alerts/alert.ts';
import type { CostTable } from './cost-model.ts';
import { marginalCosts } from './cost-model.ts';
import { fmtDuration, fmtFleetSize, fmtMoney } from './format.ts';
import type { PlanInput } from './input-schema.ts';
import type { OtaPlan } from './ota-decisions.ts';
import type { TelemetryPlan } from './telemetry-plan.ts';

export const qualityCheckNames = [
  'zero-touch provisioning',
  'signed and verified updates',
  'automatic rollback',
  'hold gates between stages',
  'device-side aggregation',
  'alert thresholds with escalation',
  'cost scales linearly',
] as const;
export type QualityCheckName = (typeof qualityCheckNames)[number];

export interface QualityCheck {
  name: QualityCheckName;
  pass: boolean;
  evidence: string;
}

/** Marginal cost per device may vary this much (max / min) and still count as linear. */
export const LINEARITY_TOLERANCE = 1.1;

export interface CheckInputs {
  input: PlanInput;
  ota: OtaPlan;
  telemetry: TelemetryPlan;
  costs: CostTable;
}

function provisioning({ input }: CheckInputs): QualityCheck {
  const p = input.configuration.provisioning;
  const pass = p.method === 'zero-touch' && p.ownerAssignment === 'api';
  return {
    name: 'zero-touch provisioning',
    pass,
    evidence: `provisioning.method = ${p.method}, ownerAssignment = ${p.ownerAssignment}${pass ? ': no person touches a device between the factory and operation' : ': a person acts per device'}`,
  };
}

function signedUpdates({ input }: CheckInputs): QualityCheck {
  const u = input.configuration.update;
  const pass = u.enabled && u.signatures !== 'none';
  return {
    name: 'signed and verified updates',
    pass,
    evidence: !u.enabled
      ? 'update.enabled = false: devices take no updates'
      : `update.signatures = ${u.signatures}${pass ? ': the agent verifies TUF metadata and the image hash before installing' : ''}`,
  };
}

function rollback({ input, ota }: CheckInputs): QualityCheck {
  const u = input.configuration.update;
  const reasons: string[] = [];
  if (!u.automaticRollback) reasons.push('update.automaticRollback = false');
  if (u.healthRounds === 0) reasons.push('update.healthRounds = 0 (no health check)');
  if (ota.scheme === 'single') reasons.push('one slot and no recovery partition');
  if (!u.enabled) reasons.push('updates disabled');
  return {
    name: 'automatic rollback',
    pass: reasons.length === 0,
    evidence:
      reasons.length === 0
        ? `${ota.scheme === 'a/b' ? 'A/B slots' : 'recovery partition'}, automaticRollback = true, ${u.healthRounds} health rounds within ${u.connectWithinS} s`
        : reasons.join('; '),
  };
}

function holdGates({ input }: CheckInputs): QualityCheck {
  const { stages, gates } = input.configuration.rollouts;
  const between = stages.slice(0, -1);
  const unheld = between.map((s, i) => ({ s, i })).filter(({ s }) => s.holdS === 0 && !s.manualApproval);
  const pass = between.length > 0 && unheld.length === 0;
  return {
    name: 'hold gates between stages',
    pass,
    evidence:
      between.length === 0
        ? 'one stage: every targeted device updates at once'
        : unheld.length > 0
          ? `stage ${unheld.map(({ i }) => i + 1).join(', ')} of ${stages.length} has no hold and no approval`
          : `${between.map((s) => (s.manualApproval ? `${fmtDuration(s.holdS)} + approval` : fmtDuration(s.holdS))).join(', ')} between ${stages.length} stages; gates success ≥ ${gates.minSuccessRate * 100} %, failure ≤ ${gates.maxFailureRate * 100} %`,
  };
}

function aggregation({ telemetry }: CheckInputs): QualityCheck {
  const s = telemetry.settings;
  const per = (c: { sampleMs: number; windowMs: number }) => c.windowMs / c.sampleMs;
  if (!telemetry.enabled)
    return { name: 'device-side aggregation', pass: false, evidence: 'telemetry.enabled = false' };
  const pass = per(s.health) > 1 && per(s.app) > 1;
  return {
    name: 'device-side aggregation',
    pass,
    evidence: `${per(s.health)} health samples and ${per(s.app)} application samples per window${pass ? ' are sent as one min/max/avg/count/last each' : ' (one sample per window is no aggregation)'}`,
  };
}

function alerting({ input }: CheckInputs): QualityCheck {
  const alerts = input.configuration.server.alerts;
  const rules = input.configuration.alertRules.filter((r) => r.enabled);
  const watched = new Set(rules.map((r) => r.metric));
  const missing = input.monitoring.metrics.filter((m) => !watched.has(m.metric)).map((m) => m.metric);
  const escalates = (severity: AlertSeverity) =>
    alerts.escalation.policies[severity].some((step) => step.channels.some((name) => name !== 'log'));
  const problems: string[] = [];
  if (rules.length === 0) problems.push('no enabled alert rule');
  if (missing.length > 0) problems.push(`no rule watches ${missing.join(', ')}`);
  if (Object.keys(alerts.channels).length === 0)
    problems.push('no notification channel (alerts.channels is empty)');
  else if (!escalates('critical')) problems.push('critical alerts reach only the log');
  const chain = alerts.escalation.policies.critical
    .map((s) => `${s.afterS === 0 ? 'at once' : `after ${fmtDuration(s.afterS)}`}: ${s.channels.join(', ')}`)
    .join('; ');
  return {
    name: 'alert thresholds with escalation',
    pass: problems.length === 0,
    evidence:
      problems.length > 0
        ? problems.join('; ')
        : `${rules.length} enabled rules; critical escalates ${chain}`,
  };
}

/**
 * Linear: the added cost per added device is the same (within the tolerance) between every two
 * sizes, and up to the projected fleet no part has a ceiling that more nodes cannot lift.
 */
function linearity({ input, costs }: CheckInputs): QualityCheck {
  const rows = costs.selfHosted;
  const marginal = marginalCosts(rows);
  const ratio = Math.max(...marginal) / Math.min(...marginal);
  const horizon = rows.find((r) => r.devices >= input.fleet.devicesProjected)?.devices ?? Infinity;
  const ceiling = rows.filter((r) => r.overStoreCeiling && r.devices <= horizon);
  const pass = ratio <= LINEARITY_TOLERANCE && ceiling.length === 0;
  const evidence = `added cost per added device ${marginal.map((m) => fmtMoney(m)).join(', ')} between ${rows.map((r) => fmtFleetSize(r.devices)).join(' / ')} (max/min ${ratio.toFixed(2)}, allowed ${LINEARITY_TOLERANCE})`;
  return {
    name: 'cost scales linearly',
    pass,
    evidence:
      ceiling.length > 0
        ? `${evidence}; but from ${fmtFleetSize(ceiling[0]!.devices)} devices the peak ingest (${Math.round(ceiling[0]!.peakBatchesPerS)} batches/s) passes SQLite's single writer (store.kind = sqlite): nodes cannot be added, use PostgreSQL`
        : evidence,
  };
}

export function runQualityChecks(inputs: CheckInputs): QualityCheck[] {
  return [provisioning, signedUpdates, rollback, holdGates, aggregation, alerting, linearity].map((check) =>
    check(inputs),
  );
}
