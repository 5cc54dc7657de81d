/**
 * The hold gates of one stage, evaluated from its summary. Each gate reports its value against
 * its threshold, for the API and CLI as much as for the state machine. Only `success` counts as
 * updated: the device reports it only after the new image passed its post-boot health check.
 */
import type { Gates } from './rollout-spec.ts';
import type { StageSummary } from './stage-summary.ts';

export const gateNames = ['min-reported', 'success-rate', 'failure-rate', 'health-regression'] as const;
export type GateName = (typeof gateNames)[number];
/** `pending`: not decided yet (not enough devices have finished). */
export type GateStatus = 'pass' | 'fail' | 'pending';

export interface GateResult {
  gate: GateName;
  /** health-regression: the metric compared (one result per metric). */
  metric?: string;
  /**
   * A count (min-reported), a fraction 0..1 (rates) or a ratio updated / old version
   * (health-regression); null when there is nothing to measure.
   */
  value: number | null;
  threshold: number;
  status: GateStatus;
  /** One human-readable line with the counts behind the value. */
  detail: string;
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** Every gate of the stage, in `gateNames` order. */
export function evaluateGates(summary: StageSummary, gates: Gates): GateResult[] {
  if (summary.eligible === 0) {
    const empty = (gate: GateName, threshold: number): GateResult => ({
      gate,
      value: null,
      threshold,
      status: 'pass',
      detail: 'no device in this stage',
    });
    return [
      empty('min-reported', 0),
      empty('success-rate', gates.minSuccessRate),
      empty('failure-rate', gates.maxFailureRate),
    ];
  }
  return [minReported(summary, gates), successRate(summary, gates), failureRate(summary, gates)];
}

/** Enough devices reached a verdict; capped at the stage size so a small stage can finish. */
function minReported(s: StageSummary, gates: Gates): GateResult {
  const threshold = Math.min(gates.minReported, s.eligible);
  return {
    gate: 'min-reported',
    value: s.reported,
    threshold,
    status: s.reported >= threshold ? 'pass' : 'pending',
    detail: `${s.reported} of ${s.eligible} devices reported a final state (${s.stuck} stuck)`,
  };
}

/**
 * Updated devices over all devices of the stage, so the stage must be (almost) complete before
 * it passes. Fails as soon as the threshold is out of reach even if every unfinished device
 * succeeded.
 */
function successRate(s: StageSummary, gates: Gates): GateResult {
  const value = s.success / s.eligible;
  const bestCase = (s.eligible - s.failed - s.stuck) / s.eligible;
  const status =
    value >= gates.minSuccessRate ? 'pass' : bestCase < gates.minSuccessRate ? 'fail' : 'pending';
  return {
    gate: 'success-rate',
    value,
    threshold: gates.minSuccessRate,
    status,
    detail: `${s.success} of ${s.eligible} devices updated (${percent(value)}, at least ${percent(gates.minSuccessRate)} required)`,
  };
}

/**
 * Failed, rolled-back and stuck devices over all devices of the stage: fails the moment the
 * stage's failure budget is spent, however many devices are still updating, and never on a
 * small early sample (one failure among the first three reports of a thousand devices).
 */
function failureRate(s: StageSummary, gates: Gates): GateResult {
  const failures = s.failed + s.stuck;
  const value = failures / s.eligible;
  return {
    gate: 'failure-rate',
    value,
    threshold: gates.maxFailureRate,
    status: value > gates.maxFailureRate ? 'fail' : 'pass',
    detail: `${s.failed} failed or rolled back and ${s.stuck} stuck of ${s.eligible} devices (${percent(value)}, at most ${percent(gates.maxFailureRate)} allowed)`,
  };
}
