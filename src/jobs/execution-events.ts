/**
 * Applies one machine event (job-states.ts) to a stored execution: the pure transition decides
 * the next state, this adds the fields that go with it (deadline, retry delay, outcome) and writes
 * it as a compare-and-set, so a lost race or a stale report changes nothing.
 */
import type { ExecutionChange, ExecutionRecord, JobStore } from '../store/job-types.ts';
import { retryDelayMs, type JobSpec } from './job-spec.ts';
import { nextExecution, type ExecutionEvent, type ExecutionState } from './job-states.ts';

/** Details an event carries into the record. */
export interface EventOutcome {
  code?: string | null;
  message?: string | null;
  result?: Record<string, unknown> | null;
}

export type Applied =
  | { applied: true; execution: ExecutionRecord }
  | { applied: false; reason: 'final' | 'stale-attempt' | 'not-allowed' | 'lost-race' };

/** Called for every execution that entered `state` (metrics). */
export type TransitionListener = (operation: JobSpec['operation'], state: ExecutionState) => void;

export async function applyExecutionEvent(
  deps: { jobs: JobStore; onTransition?: TransitionListener | undefined },
  spec: JobSpec,
  execution: ExecutionRecord,
  event: ExecutionEvent,
  outcome: EventOutcome,
  nowMs: number,
): Promise<Applied> {
  const next = nextExecution(execution, event);
  if (!next.ok) return { applied: false, reason: next.reason };
  const { state, attempt } = next.to;
  const change: ExecutionChange = { state, attempt, ...outcome };
  if (event.kind === 'send') {
    Object.assign(change, {
      sentAtMs: nowMs,
      deadlineMs: nowMs + spec.timeoutS * 1000,
      notBeforeMs: null,
      code: null,
      message: null,
      result: null,
    });
  } else if (state === 'queued') {
    // A retry: not before the backoff of the attempt that just ended.
    Object.assign(change, { deadlineMs: null, notBeforeMs: nowMs + retryDelayMs(spec, execution.attempt) });
  } else if (state !== 'in-progress') {
    change.deadlineMs = null;
  }
  const written = await deps.jobs.updateExecution(execution.id, execution, change, nowMs);
  if (!written) return { applied: false, reason: 'lost-race' };
  deps.onTransition?.(spec.operation, state);
  const updated: ExecutionRecord = {
    ...execution,
    state,
    attempt,
    code: change.code === undefined ? execution.code : change.code,
    message: change.message === undefined ? execution.message : change.message,
    result: change.result === undefined ? execution.result : change.result,
    sentAtMs: change.sentAtMs === undefined ? execution.sentAtMs : change.sentAtMs,
    deadlineMs: change.deadlineMs === undefined ? execution.deadlineMs : change.deadlineMs,
    notBeforeMs: change.notBeforeMs === undefined ? execution.notBeforeMs : change.notBeforeMs,
    updatedAtMs: nowMs,
  };
  return { applied: true, execution: updated };
}
