/**
 * Counts of one stage's devices, from what the store knows about their executions. Stuck
 * devices are found here, against `nowMs`, so the gates see them as failures.
 */
import type { ExecutionState } from '../../store/update-types.ts';

/** States in which the device is working on the update: silence here for too long is a failure. */
export const activeStates = ['downloading', 'installing', 'rebooting', 'verifying'] as const;
/**
 * States in which the device waits legitimately: `offered` (offline, or has not polled yet) and
 * `downloaded` (install deferred by its update lock or a maintenance window). Never stuck: an
 * offline device says nothing about the release.
 */
export const waitingStates = ['offered', 'downloaded'] as const;
export type UnfinishedState = (typeof activeStates)[number] | (typeof waitingStates)[number];

export interface StageExecutions {
  /** Devices of the stage without an execution yet (not started: rate limit, just joined). */
  notStarted: number;
  /** Executions that ended, by state. */
  finished: Partial<Record<'success' | 'failed' | 'rolled-back' | 'cancelled', number>>;
  /** Every unfinished execution: its state and when it entered that state (ms since epoch). */
  unfinished: ReadonlyArray<{ state: UnfinishedState; sinceMs: number }>;
}

export interface StageSummary {
  /** Devices in the stage that count: every device except cancelled executions. */
  eligible: number;
  notStarted: number;
  /** Devices per execution state (states with none are absent). */
  byState: Partial<Record<ExecutionState, number>>;
  success: number;
  /** failed + rolled-back. */
  failed: number;
  /** Active for longer than the stuck timeout; counted as failures by the gates. */
  stuck: number;
  /** Reached a final state, or stuck (a final verdict by timeout). */
  reported: number;
  /** Withdrawn or replaced by another deployment: neither success nor failure. */
  cancelled: number;
}

/** Summarises the stage at `nowMs`; a device active for `stuckTimeoutS` or longer is stuck. */
export function summarizeStage(
  executions: StageExecutions,
  nowMs: number,
  stuckTimeoutS: number,
): StageSummary {
  const byState: Partial<Record<ExecutionState, number>> = {};
  const add = (state: ExecutionState, n: number): void => {
    if (n > 0) byState[state] = (byState[state] ?? 0) + n;
  };
  for (const [state, n] of Object.entries(executions.finished)) add(state as ExecutionState, n);
  let stuck = 0;
  const stuckBeforeMs = nowMs - stuckTimeoutS * 1000;
  for (const { state, sinceMs } of executions.unfinished) {
    add(state, 1);
    if ((activeStates as readonly string[]).includes(state) && sinceMs <= stuckBeforeMs) stuck += 1;
  }
  const success = executions.finished.success ?? 0;
  const failed = (executions.finished.failed ?? 0) + (executions.finished['rolled-back'] ?? 0);
  const cancelled = executions.finished.cancelled ?? 0;
  return {
    eligible: executions.notStarted + executions.unfinished.length + success + failed,
    notStarted: executions.notStarted,
    byState,
    success,
    failed,
    stuck,
    reported: success + failed + stuck,
    cancelled,
  };
}
