/**
 * Where a rollout's devices are: their executions, read from the update store per deployment the
 * rollout created, grouped per stage in the shape `summarizeStage` takes.
 */
import type { UpdateExecution, UpdateStore } from '../../store/update-types.ts';
import type { RolloutMember } from '../../store/rollout-types.ts';
import { evaluateGates, type GateResult } from './gates.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import {
  summarizeStage,
  type StageExecutions,
  type StageSummary,
  type UnfinishedState,
} from './stage-summary.ts';

const finishedStates = ['success', 'failed', 'rolled-back', 'cancelled'] as const;
type FinishedState = (typeof finishedStates)[number];

/**
 * The execution of every started member (device id → execution of the member's deployment),
 * read in batches of deployments (id-batches.ts), not per device.
 */
export async function memberExecutions(
  updates: Pick<UpdateStore, 'executionsOfDeployments'>,
  members: readonly RolloutMember[],
): Promise<Map<string, UpdateExecution>> {
  const deploymentOf = new Map(
    members.flatMap((m) => (m.deploymentId === null ? [] : [[m.deviceId, m.deploymentId]])),
  );
  const byDevice = new Map<string, UpdateExecution>();
  for (const execution of await updates.executionsOfDeployments([...new Set(deploymentOf.values())]))
    if (deploymentOf.get(execution.deviceId) === execution.deploymentId)
      byDevice.set(execution.deviceId, execution);
  return byDevice;
}

/**
 * One stage's executions. Skipped members (already on the release when their turn came) are
 * outside the stage: neither updated by the rollout nor failed.
 */
export function stageExecutions(
  members: readonly RolloutMember[],
  executions: ReadonlyMap<string, UpdateExecution>,
  stageIndex: number,
): StageExecutions {
  const result: StageExecutions & { unfinished: Array<{ state: UnfinishedState; sinceMs: number }> } = {
    notStarted: 0,
    finished: {},
    unfinished: [],
  };
  for (const member of members) {
    if (member.stageIndex !== stageIndex || member.skipReason !== null) continue;
    const execution = member.deploymentId === null ? undefined : executions.get(member.deviceId);
    if (execution === undefined || execution.deploymentId !== member.deploymentId) {
      result.notStarted += 1;
    } else if ((finishedStates as readonly string[]).includes(execution.state)) {
      const state = execution.state as FinishedState;
      result.finished[state] = (result.finished[state] ?? 0) + 1;
    } else {
      // updatedAt moves on progress reports too: a device still reporting progress is not stuck.
      result.unfinished.push({
        state: execution.state as UnfinishedState,
        sinceMs: Date.parse(execution.updatedAt),
      });
    }
  }
  return result;
}

export interface StageView {
  stageIndex: number;
  /** Devices assigned to the stage, skipped ones included. */
  devices: number;
  skipped: number;
  summary: StageSummary;
  gates: GateResult[];
}

/** The summary and gate results of one stage at `nowMs`. */
export function stageView(
  spec: Pick<RolloutSpec, 'gates'>,
  members: readonly RolloutMember[],
  executions: ReadonlyMap<string, UpdateExecution>,
  stageIndex: number,
  nowMs: number,
): StageView {
  const inStage = members.filter((m) => m.stageIndex === stageIndex);
  const summary = summarizeStage(
    stageExecutions(members, executions, stageIndex),
    nowMs,
    spec.gates.stuckTimeoutS,
  );
  return {
    stageIndex,
    devices: inStage.length,
    skipped: inStage.filter((m) => m.skipReason !== null).length,
    summary,
    gates: evaluateGates(summary, spec.gates),
  };
}
