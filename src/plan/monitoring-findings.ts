/**
 * The monitoring requirements against the configured alert rules and escalation: a rule per
 * required metric with the required threshold and severity, and critical alerts reaching a person
 * within the required time. Pure.
 */
import { durationMs } from '../alerts/rules/alert-rule.ts';
import type { Finding } from './findings.ts';
import type { PlanInput } from './input-schema.ts';

export function monitoringFindings(input: PlanInput): Finding[] {
  const findings: Finding[] = [];
  const { metrics, criticalResponseMin } = input.monitoring;
  if (metrics.length === 0)
    findings.push({
      severity: 'warning',
      field: 'monitoring.metrics',
      message: 'no monitoring requirements: the document lists the configured alert rules only',
    });
  metrics.forEach((required, index) => {
    const rule = input.configuration.alertRules.find((r) => r.enabled && r.metric === required.metric);
    if (rule === undefined) return; // the alerting quality check reports it
    const level = rule.levels?.find((l) => l.severity === required.severity);
    const wanted = required.threshold.replace(/\s+/g, '');
    const configured = level ? `${rule.operator ?? ''}${String(level.threshold)}` : undefined;
    if (configured !== wanted)
      findings.push({
        severity: 'warning',
        field: `monitoring.metrics.${index}`,
        message: `${required.metric} ${required.threshold} should raise a ${required.severity} alert, but rule "${rule.name}" has ${level ? `${configured} for ${required.severity}` : `no ${required.severity} level`}`,
      });
  });
  if (criticalResponseMin !== undefined) {
    const alerts = input.configuration.server.alerts;
    const step = alerts.escalation.policies.critical.find((s) => s.channels.some((c) => c !== 'log'));
    const worstS =
      step === undefined
        ? Infinity
        : alerts.evaluationIntervalS + step.afterS + Math.max(0, ...criticalRuleHoldsS(input));
    if (worstS > criticalResponseMin * 60)
      findings.push({
        severity: 'error',
        field: 'monitoring.criticalResponseMin',
        message:
          step === undefined
            ? `critical alerts must reach a person within ${criticalResponseMin} min, but they reach only the log`
            : `critical alerts must reach a person within ${criticalResponseMin} min; evaluation every ${alerts.evaluationIntervalS} s, the longest critical rule's "for" and the first notifying step (after ${step.afterS} s) take up to ${Math.ceil(worstS / 60)} min`,
      });
  }
  return findings;
}

/** How long each enabled rule with a critical level waits before opening (`for`), in seconds. */
function criticalRuleHoldsS(input: PlanInput): number[] {
  return input.configuration.alertRules
    .filter(
      (r) => r.enabled && (r.levels?.some((l) => l.severity === 'critical') || r.severity === 'critical'),
    )
    .map((r) => (durationMs(r.for) ?? 0) / 1000);
}
