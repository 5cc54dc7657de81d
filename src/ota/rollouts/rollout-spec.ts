/**
 * The rollout specification: the single schema for the API body, the CLI and what the store
 * persists. Parsing is idempotent (a parsed spec parses to itself), so the store can keep the
 * parsed form and re-validate it when reading it back. Rules and defaults: docs/rollouts.md.
 */
import { z } from 'zod';
import { maintenanceWindowSchema } from '../../contracts/maintenance-window.ts';
import { ValidationError } from '../../infra/errors.ts';
import { queryLimits } from '../../fleet-query/index.ts';
import { deviceSelectorSchema } from './device-selector.ts';
import { healthRegressionSchema } from './health-regression.ts';

const HOUR_S = 3600;
const MAX_HOLD_S = 30 * 24 * HOUR_S;
const MAX_STAGES = 20;
const MAX_WINDOWS = 100;

/** Default stage sizes (cumulative percent of the targeted devices). */
export const DEFAULT_STAGE_PERCENTS: readonly number[] = [1, 10, 50, 100];
export const DEFAULT_HOLD_S = 24 * HOUR_S;

const rate = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be between 0 and 1`)
    .max(1, `${name} must be between 0 and 1`);

/**
 * One stage: its cumulative size as `percent` of the targeted devices or an absolute `count`
 * (exactly one), the hold after its devices are updated, and whether leaving it needs approval.
 */
export const stageSchema = z
  .strictObject({
    percent: z.number().gt(0, 'percent must be above 0').max(100, 'percent must be at most 100').optional(),
    count: z.number().int().positive('count must be a positive integer').optional(),
    /** Seconds to observe the stage after it started before the next one may start. */
    holdS: z.number().int().min(0).max(MAX_HOLD_S, 'holdS must be at most 30 days').default(DEFAULT_HOLD_S),
    /** An operator must approve before the next stage starts. */
    manualApproval: z.boolean().default(false),
  })
  .refine((s) => (s.percent === undefined) !== (s.count === undefined), {
    message: 'a stage has exactly one of percent and count',
  });
export type Stage = z.infer<typeof stageSchema>;

/** Per-stage gate thresholds. Rates are fractions of the stage's devices (0..1). */
export const gatesSchema = z.strictObject({
  /** Devices of the stage that must have reported a final state (capped at the stage size). */
  minReported: z.number().int().min(1, 'minReported must be at least 1').default(1),
  /** Devices updated (success after the health check) / devices in the stage. */
  minSuccessRate: rate('minSuccessRate').default(0.95),
  /** (failed + rolled back + stuck) / devices in the stage. */
  maxFailureRate: rate('maxFailureRate').default(0.05),
  /** An unfinished device longer than this in an active state counts as a failure. */
  stuckTimeoutS: z
    .number()
    .int()
    .positive()
    .max(MAX_HOLD_S)
    .default(2 * HOUR_S),
  /** Updated devices' telemetry against the old version's (docs/rollouts.md, "Health regression"). */
  healthRegression: healthRegressionSchema.prefault({}),
});
export type Gates = z.infer<typeof gatesSchema>;

export const releaseRefSchema = z.strictObject({
  model: z.string().min(1).max(128),
  version: z.string().min(1).max(64),
});
export type ReleaseRef = z.infer<typeof releaseRefSchema>;

/**
 * A maintenance window for the devices its selector matches (`{}`: all). The first window whose
 * selector matches a device applies to it; a device no window matches installs any time.
 */
export const rolloutWindowSchema = maintenanceWindowSchema.extend({
  selector: deviceSelectorSchema.prefault({}),
});
export type RolloutWindow = z.infer<typeof rolloutWindowSchema>;

/**
 * The rollout's devices: the structured fields and, optionally, a fleet query (docs/fleet-query.md)
 * such as `region in ("eu-west", "eu-north") and battery > 30`, all AND-combined. The query is
 * checked when the rollout is created (400 with the position) and re-evaluated at every re-selection.
 */
export const rolloutSelectorSchema = deviceSelectorSchema.extend({
  where: z.string().min(1).max(queryLimits.maxBytes).optional(),
});
export type RolloutSelector = z.infer<typeof rolloutSelectorSchema>;

export const rolloutSpecSchema = z
  .strictObject({
    release: releaseRefSchema,
    selector: rolloutSelectorSchema.prefault({}),
    stages: z
      .array(stageSchema)
      .min(1, 'at least one stage is required')
      .max(MAX_STAGES, `at most ${MAX_STAGES} stages`)
      .prefault(DEFAULT_STAGE_PERCENTS.map((percent) => ({ percent }))),
    gates: gatesSchema.prefault({}),
    /** New devices started per minute across the rollout; null = no limit. */
    maxStartsPerMinute: z.number().int().positive().nullable().default(null),
    /** Safety-critical: hold times are skipped, the gates still apply (and windows). */
    mandatory: z.boolean().default(false),
    /** When devices install; the first window whose selector matches a device applies. */
    maintenanceWindows: z
      .array(rolloutWindowSchema)
      .max(MAX_WINDOWS, `at most ${MAX_WINDOWS} maintenance windows`)
      .default([]),
  })
  .superRefine((spec, ctx) => {
    for (const { index, message } of stageProblems(spec.stages))
      ctx.addIssue({ code: 'custom', path: ['stages', index], message });
  });
export type RolloutSpec = z.infer<typeof rolloutSpecSchema>;
/** What a client sends: every field with a default may be left out. */
export type RolloutSpecInput = z.input<typeof rolloutSpecSchema>;

export type StageTarget = { kind: 'percent'; percent: number } | { kind: 'count'; count: number };

/** The stage's size, as the discriminated union the schema guarantees. */
export function stageTarget(stage: Stage): StageTarget {
  if (stage.count !== undefined) return { kind: 'count', count: stage.count };
  return { kind: 'percent', percent: stage.percent ?? 100 };
}

/**
 * Rules across stages: sizes are cumulative and strictly increasing, one kind before the last
 * stage, and the last stage is `percent: 100` so every targeted device is eventually covered.
 */
function stageProblems(stages: readonly Stage[]): Array<{ index: number; message: string }> {
  const problems: Array<{ index: number; message: string }> = [];
  const targets = stages.map(stageTarget);
  const lastIndex = targets.length - 1;
  const last = targets[lastIndex];
  if (last !== undefined && !(last.kind === 'percent' && last.percent === 100))
    problems.push({
      index: lastIndex,
      message: 'the last stage must be { percent: 100 } to cover every device',
    });
  if (stages[lastIndex]?.manualApproval === true)
    problems.push({ index: lastIndex, message: 'manualApproval on the last stage: no stage follows it' });
  const earlier = targets.slice(0, -1);
  const kind = earlier[0]?.kind;
  for (const [index, target] of earlier.entries()) {
    if (target.kind !== kind) {
      problems.push({ index, message: 'stages before the last are either all percent or all count' });
      continue;
    }
    const previous = index === 0 ? 0 : size(earlier[index - 1]);
    if (index > 0 && size(target) <= previous)
      problems.push({
        index,
        message: `${target.kind} must increase from stage to stage (${previous} → ${size(target)})`,
      });
    if (target.kind === 'percent' && target.percent >= 100)
      problems.push({ index, message: 'only the last stage may be 100 percent' });
  }
  return problems;
}

function size(target: StageTarget | undefined): number {
  if (target === undefined) return 0;
  return target.kind === 'percent' ? target.percent : target.count;
}

/** Parses a client's spec, filling in the defaults; ValidationError lists every problem by path. */
export function parseRolloutSpec(input: unknown): RolloutSpec {
  const parsed = rolloutSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const summary = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
  throw new ValidationError(`invalid rollout: ${summary}`, { issues });
}
