/**
 * The states of a job and of its executions, and every transition between them, in one pure
 * table-driven machine (test/jobs/job-states.test.ts walks the table). Stores apply a transition
 * as a compare-and-set on (state, attempt), so a late report never moves a newer state.
 */
export const jobStates = ['scheduled', 'in-progress', 'completed', 'aborted', 'cancelled'] as const;
export type JobState = (typeof jobStates)[number];
export const finalJobStates: readonly JobState[] = ['completed', 'aborted', 'cancelled'];

export const executionStates = [
  'queued',
  'sent',
  'in-progress',
  'succeeded',
  'failed',
  'timed-out',
  'cancelled',
] as const;
export type ExecutionState = (typeof executionStates)[number];
export const finalExecutionStates: readonly ExecutionState[] = [
  'succeeded',
  'failed',
  'timed-out',
  'cancelled',
];
/** Waiting for the device: what a reconnect re-sends and an expiry or cancel ends. */
export const pendingExecutionStates: readonly ExecutionState[] = ['queued', 'sent'];
export const activeExecutionStates: readonly ExecutionState[] = ['queued', 'sent', 'in-progress'];

export type JobEvent = 'start' | 'complete' | 'abort' | 'cancel';

const jobTable: Record<JobEvent, { from: readonly JobState[]; to: JobState }> = {
  start: { from: ['scheduled'], to: 'in-progress' },
  complete: { from: ['in-progress'], to: 'completed' },
  abort: { from: ['in-progress'], to: 'aborted' },
  cancel: { from: ['scheduled', 'in-progress'], to: 'cancelled' },
};

/** The job's next state, or undefined when `event` does not apply to `state`. */
export function nextJobState(state: JobState, event: JobEvent): JobState | undefined {
  const rule = jobTable[event];
  return rule.from.includes(state) ? rule.to : undefined;
}

export const isFinalExecution = (state: ExecutionState): boolean => finalExecutionStates.includes(state);

/** What an execution is, as far as the machine is concerned. */
export interface ExecutionPosition {
  state: ExecutionState;
  /** Attempts sent so far (0 while never sent). */
  attempt: number;
}

/** Events of an execution; `attempt` on device reports names the attempt they are about. */
export type ExecutionEvent =
  | { kind: 'send' }
  /** A device report; `retry` when attempts remain (a `failed` attempt then goes back to the queue). */
  | {
      kind: 'report';
      attempt: number;
      state: 'in-progress' | 'succeeded' | 'failed' | 'rejected';
      retry: boolean;
    }
  /** The attempt's deadline passed; `retry` when attempts remain. */
  | { kind: 'timeout'; retry: boolean }
  /** The job's expiresAt passed before the device took it. */
  | { kind: 'expire' }
  /** The job was cancelled or aborted. */
  | { kind: 'cancel' }
  /** The device cannot run it (capabilities): failed at once, never sent. */
  | { kind: 'unsupported' };

export type ExecutionTransition =
  { ok: true; to: ExecutionPosition } | { ok: false; reason: 'not-allowed' | 'stale-attempt' | 'final' };

/** The execution after `event`, or why it does not move (final, stale attempt, not allowed). */
export function nextExecution(current: ExecutionPosition, event: ExecutionEvent): ExecutionTransition {
  if (isFinalExecution(current.state)) return { ok: false, reason: 'final' };
  const to = (state: ExecutionState, attempt = current.attempt): ExecutionTransition => ({
    ok: true,
    to: { state, attempt },
  });
  const sentOrRunning = current.state === 'sent' || current.state === 'in-progress';
  switch (event.kind) {
    case 'send':
      return current.state === 'queued' ? to('sent', current.attempt + 1) : notAllowed;
    case 'report':
      if (event.attempt !== current.attempt) return { ok: false, reason: 'stale-attempt' };
      if (!sentOrRunning) return notAllowed;
      if (event.state === 'failed' && event.retry) return to('queued');
      // A rejection is the device's final word: never retried.
      return to(event.state === 'rejected' ? 'failed' : event.state);
    case 'timeout':
      if (!sentOrRunning) return notAllowed;
      return to(event.retry ? 'queued' : 'timed-out');
    case 'expire':
      return current.state === 'queued' || current.state === 'sent' ? to('timed-out') : notAllowed;
    case 'cancel':
      return current.state === 'queued' || current.state === 'sent' ? to('cancelled') : notAllowed;
    case 'unsupported':
      return current.state === 'queued' ? to('failed') : notAllowed;
  }
}

const notAllowed: ExecutionTransition = { ok: false, reason: 'not-allowed' };

/** Counts per state → whether more than `percent`% of at least `minFinished` finished ones failed. */
export function abortThresholdReached(
  counts: Readonly<Partial<Record<ExecutionState, number>>>,
  rule: { abortAfterFailedPercent?: number | undefined; minFinished: number },
): boolean {
  if (rule.abortAfterFailedPercent === undefined) return false;
  const bad = (counts.failed ?? 0) + (counts['timed-out'] ?? 0);
  const finished = bad + (counts.succeeded ?? 0);
  return finished >= rule.minFinished && (bad / finished) * 100 > rule.abortAfterFailedPercent;
}

/** True when no execution waits or runs any more. */
export function allExecutionsFinished(counts: Readonly<Partial<Record<ExecutionState, number>>>): boolean {
  return activeExecutionStates.every((state) => (counts[state] ?? 0) === 0);
}
