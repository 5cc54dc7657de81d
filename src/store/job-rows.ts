/**
 * The job rows both stores share and their mapping to the store's types. SQLite holds times as
 * INTEGER ms and JSON as TEXT; PostgreSQL as bigint (returned as text) and jsonb (parsed), so the
 * decoders accept either. Specs and capabilities are validated on the way out.
 */
import { jobCapabilitiesSchema, type JobCapabilities } from '../contracts/job-messages.ts';
import { jobSpecSchema } from '../jobs/job-spec.ts';
import {
  executionStates,
  isFinalExecution,
  jobStates,
  type ExecutionState,
  type JobState,
} from '../jobs/job-states.ts';
import { encodeCursor } from './cursor.ts';
import type { Page } from './types.ts';
import type { ExecutionChange, ExecutionRecord, JobRecord } from './job-types.ts';

type Big = number | string;

export interface JobRow {
  id: string;
  spec: unknown;
  state: string;
  reason: string | null;
  created_by: string;
  device_count: Big;
  created_at: Big;
  updated_at: Big;
  started_at: Big | null;
  finished_at: Big | null;
}

export interface ExecutionRow {
  id: string;
  job_id: string;
  device_id: string;
  state: string;
  attempt: Big;
  code: string | null;
  message: string | null;
  result: unknown;
  sent_at: Big | null;
  deadline: Big | null;
  not_before: Big | null;
  log_file: string | null;
  log_bytes: Big | null;
  created_at: Big;
  updated_at: Big;
  finished_at: Big | null;
}

export const jobColumns =
  'id, spec, state, reason, created_by, device_count, created_at, updated_at, started_at, finished_at';
export const executionColumns =
  'id, job_id, device_id, state, attempt, code, message, result, sent_at, deadline, not_before, log_file, log_bytes, created_at, updated_at, finished_at';

const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
const num = (value: Big | null): number | null => (value === null ? null : Number(value));

/** A state value from the database, refused loudly when unknown (a hand-edited row). */
function member<T extends string>(list: readonly T[], value: string, what: string): T {
  if (!(list as readonly string[]).includes(value))
    throw new Error(`unknown ${what} ${value} in the job store`);
  return value as T;
}

export function jobFromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    spec: jobSpecSchema.parse(json(row.spec)),
    state: member<JobState>(jobStates, row.state, 'job state'),
    reason: row.reason,
    createdBy: row.created_by,
    deviceCount: Number(row.device_count),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
    startedAtMs: num(row.started_at),
    finishedAtMs: num(row.finished_at),
  };
}

export function executionFromRow(row: ExecutionRow): ExecutionRecord {
  const result = row.result === null ? null : (json(row.result) as Record<string, unknown>);
  return {
    id: row.id,
    jobId: row.job_id,
    deviceId: row.device_id,
    state: member<ExecutionState>(executionStates, row.state, 'execution state'),
    attempt: Number(row.attempt),
    code: row.code,
    message: row.message,
    result,
    sentAtMs: num(row.sent_at),
    deadlineMs: num(row.deadline),
    notBeforeMs: num(row.not_before),
    logFile: row.log_file,
    logBytes: num(row.log_bytes),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
    finishedAtMs: num(row.finished_at),
  };
}

export function capabilitiesFromRow(row: { capabilities: unknown }): JobCapabilities {
  return jobCapabilitiesSchema.parse(json(row.capabilities));
}

/** `'a', 'b'` for an IN list of fixed state names (never user input). */
export const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/** The execution columns of a query that joins other tables, qualified by `alias`. */
export const qualifiedExecutionColumns = (alias: string): string =>
  executionColumns
    .split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

/** The row values of an execution after `change` (unset fields keep their value). */
export function mergeExecution(
  current: ExecutionRecord,
  change: ExecutionChange,
  atMs: number,
): ExecutionRecord {
  const pick = <K extends keyof ExecutionChange & keyof ExecutionRecord>(key: K): ExecutionRecord[K] =>
    (change[key] === undefined ? current[key] : change[key]) as ExecutionRecord[K];
  return {
    ...current,
    state: change.state,
    attempt: change.attempt,
    code: pick('code'),
    message: pick('message'),
    result: pick('result'),
    sentAtMs: pick('sentAtMs'),
    deadlineMs: pick('deadlineMs'),
    notBeforeMs: pick('notBeforeMs'),
    updatedAtMs: atMs,
    finishedAtMs: isFinalExecution(change.state) ? atMs : null,
  };
}

/** The `limit + 1` rows fetched as a page: the extra row only proves that more follow. */
export function pageOf<T>(items: T[], limit: number, key: (item: T) => string): Page<T> {
  const kept = items.slice(0, limit);
  const last = kept.at(-1);
  return items.length > limit && last !== undefined
    ? { items: kept, nextCursor: encodeCursor(key(last)) }
    : { items: kept };
}
