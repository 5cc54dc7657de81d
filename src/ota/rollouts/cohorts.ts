/**
 * Which stage each targeted device belongs to. A device's position is a stable hash of the
 * rollout id and its device id, so re-planning picks the same canaries, different rollouts pick
 * different canaries (no device is everyone's guinea pig), and every stage is a uniform sample
 * of the targeted fleet (representative cohorts).
 */
import { createHash } from 'node:crypto';
import { stageTarget, type Stage } from './rollout-spec.ts';

const TWO_POW_64 = 2 ** 64;

/** sha256(rolloutId NUL deviceId), first 8 bytes as an unsigned integer / 2^64: in [0, 1). */
export function cohortPosition(rolloutId: string, deviceId: string): number {
  const digest = createHash('sha256').update(rolloutId).update('\0').update(deviceId).digest();
  // A double has 53 bits of mantissa: the division rounds, and may round up to exactly 1.
  return Math.min(Number(digest.readBigUInt64BE(0)) / TWO_POW_64, 1 - Number.EPSILON);
}

/**
 * The stage of one device by its position alone (percent stages): the first stage whose
 * cumulative fraction is above the position. For count stages the answer depends on the other
 * devices, so a device that joins after planning goes to the last stage (100 %).
 */
export function stageForPosition(stages: readonly Stage[], position: number): number {
  for (const [index, stage] of stages.entries()) {
    const target = stageTarget(stage);
    if (target.kind === 'percent' && position < target.percent / 100) return index;
  }
  return stages.length - 1;
}

export interface CohortPlan {
  /** Device id → stage index. */
  stageOf: Map<string, number>;
  /** Device ids per stage, each in position order (the order in which to start them). */
  stages: string[][];
}

/**
 * Assigns every device to a stage. Percent stages: by position (`stageForPosition`). Count
 * stages: the devices ranked by position, the first `count` cumulatively. Either way the first
 * stage is never left empty while devices exist: in a small fleet 1 % can round down to no
 * device, and a rollout without canaries would defeat its purpose, so the lowest-positioned
 * device is then the canary.
 */
export function planCohorts(
  rolloutId: string,
  deviceIds: readonly string[],
  stages: readonly Stage[],
): CohortPlan {
  const ranked = [...new Set(deviceIds)]
    .map((id) => ({ id, position: cohortPosition(rolloutId, id) }))
    .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
  const firstTarget = stages[0] === undefined ? undefined : stageTarget(stages[0]);
  const byCount = firstTarget?.kind === 'count';
  const plan: CohortPlan = { stageOf: new Map(), stages: stages.map(() => []) };
  for (const [rank, device] of ranked.entries()) {
    const index = byCount ? stageForRank(stages, rank) : stageForPosition(stages, device.position);
    plan.stageOf.set(device.id, index);
    plan.stages[index]?.push(device.id);
  }
  ensureCanary(plan);
  return plan;
}

function stageForRank(stages: readonly Stage[], rank: number): number {
  for (const [index, stage] of stages.entries()) {
    const target = stageTarget(stage);
    if (target.kind === 'count' && rank < target.count) return index;
  }
  return stages.length - 1;
}

/** Moves the first device of the first non-empty stage into an empty first stage. */
function ensureCanary(plan: CohortPlan): void {
  const [first] = plan.stages;
  if (first === undefined || first.length > 0) return;
  const donor = plan.stages.find((ids) => ids.length > 0);
  const canary = donor?.shift();
  if (canary === undefined) return;
  first.push(canary);
  plan.stageOf.set(canary, 0);
}

/** The stage a device that joins the selector after planning belongs to (see stageForPosition). */
export function stageForLateDevice(rolloutId: string, deviceId: string, stages: readonly Stage[]): number {
  return stageForPosition(stages, cohortPosition(rolloutId, deviceId));
}
