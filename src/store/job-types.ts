/**
 * The job store: jobs (spec + state), their executions (one per device, resolved when the job is
 * created) and what each device said it can run (its `capabilities` message). Implemented in
 * sqlite/ and postgres/ and checked by one contract suite (test/jobs/job-store.contract.ts).
 * Execution changes are compare-and-set on (state, attempt): the driver and device reports may
 * race, and only the first change applies.
 */
import type { JobCapabilities } from '../contracts/job-messages.ts';
import type { JobSpec } from '../jobs/job-spec.ts';
import type { ExecutionState, JobState } from '../jobs/job-states.ts';
import type { Page, PageRequest } from './types.ts';

export interface JobRecord {
  id: string;
  spec: JobSpec;
  state: JobState;
  /** Why it was aborted or cancelled, else null. */
  reason: string | null;
  createdBy: string;
  /** How many executions (devices) the job has. */
  deviceCount: number;
  createdAtMs: number;
  updatedAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
}

export interface ExecutionRecord {
  id: string;
  jobId: string;
  deviceId: string;
  state: ExecutionState;
  /** Attempts sent so far; 0 until first sent. */
  attempt: number;
  code: string | null;
  message: string | null;
  result: Record<string, unknown> | null;
  /** ms since epoch when the current attempt was sent; null until sent. */
  sentAtMs: number | null;
  /** ms since epoch after which the current attempt times out; null unless sent or in progress. */
  deadlineMs: number | null;
  /** A queued retry is not sent before this time (ms since epoch); null = at once. */
  notBeforeMs: number | null;
  /** The uploaded log bundle (`logs` operation), relative to the job-logs directory, and its size. */
  logFile: string | null;
  logBytes: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface NewJob {
  id: string;
  spec: JobSpec;
  state: JobState;
  createdBy: string;
  /** The resolved device set: one execution each, with its id. */
  executions: ReadonlyArray<{ id: string; deviceId: string }>;
}

/** A compare-and-set change of one execution. */
export interface ExecutionChange {
  state: ExecutionState;
  attempt: number;
  code?: string | null;
  message?: string | null;
  result?: Record<string, unknown> | null;
  sentAtMs?: number | null;
  deadlineMs?: number | null;
  notBeforeMs?: number | null;
}

export interface JobFilter {
  state?: JobState;
  operation?: JobSpec['operation'];
  createdBy?: string;
}

export type ExecutionCounts = Partial<Record<ExecutionState, number>>;

export interface JobStore {
  /** The job and all its executions, in batches, atomically. */
  createJob(job: NewJob, atMs: number): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Newest first (ids sort by creation time). */
  listJobs(filter: JobFilter, page: PageRequest): Promise<Page<JobRecord>>;
  /** Jobs in `scheduled` or `in-progress`, oldest first: the driver's work list. */
  listActiveJobs(): Promise<JobRecord[]>;
  /**
   * Moves the job from `from` to `to` (with `reason`); false when its state is no longer `from`.
   * Final states set finishedAt, `in-progress` sets startedAt.
   */
  updateJobState(
    id: string,
    from: JobState,
    to: JobState,
    reason: string | null,
    atMs: number,
  ): Promise<boolean>;

  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  /** The execution of a job for a device. */
  findExecution(jobId: string, deviceId: string): Promise<ExecutionRecord | undefined>;
  countExecutions(jobId: string): Promise<ExecutionCounts>;
  /** Ordered by device id; `state` filters. */
  listExecutions(
    jobId: string,
    filter: { state?: ExecutionState },
    page: PageRequest,
  ): Promise<Page<ExecutionRecord>>;
  /** One device's executions, newest job first, at most `limit`. */
  listDeviceExecutions(deviceId: string, limit: number): Promise<ExecutionRecord[]>;
  /**
   * Queued executions of the job whose device is online and whose retry delay passed, by device
   * id, at most `limit`.
   */
  sendableExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]>;
  /** The device's queued and sent executions of in-progress jobs, oldest job first. */
  pendingExecutionsOfDevice(deviceId: string): Promise<ExecutionRecord[]>;
  /** Sent or in-progress executions of the job whose deadline is before `nowMs`, at most `limit`. */
  overdueExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]>;
  /** How many of the job's executions were sent at or after `sinceMs` (the rate limit's window). */
  countSentSince(jobId: string, sinceMs: number): Promise<number>;
  /** Applies `change` if the execution is still at `expected`; false otherwise (a race lost, a stale report). */
  updateExecution(
    id: string,
    expected: { state: ExecutionState; attempt: number },
    change: ExecutionChange,
    atMs: number,
  ): Promise<boolean>;
  /**
   * Moves every execution of the job in one of `from` to `to` with `code`/`message` (cancel,
   * abort, expiry). Returns the moved executions as they were before (id, device, state).
   */
  finishExecutions(
    jobId: string,
    from: readonly ExecutionState[],
    to: ExecutionState,
    outcome: { code: string; message: string },
    atMs: number,
  ): Promise<Array<Pick<ExecutionRecord, 'id' | 'deviceId' | 'state'>>>;
  /** Records an uploaded log bundle on the execution. */
  recordLogs(executionId: string, logFile: string, logBytes: number, atMs: number): Promise<void>;

  /** Replaces what the device can run. */
  putCapabilities(deviceId: string, capabilities: JobCapabilities, atMs: number): Promise<void>;
  /** Capabilities of the given devices that sent them (device id → capabilities). */
  getCapabilities(deviceIds: readonly string[]): Promise<Map<string, JobCapabilities>>;
}
