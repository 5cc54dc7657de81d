/**
 * The job store on the same better-sqlite3 handle as the other stores. Writes of more than one
 * row run in one IMMEDIATE transaction; a 10,000-device job is one transaction of prepared inserts.
 */
import type Database from 'better-sqlite3';
import type { JobCapabilities } from '../../contracts/job-messages.ts';
import { finalJobStates, type ExecutionState, type JobState } from '../../jobs/job-states.ts';
import { checkPageLimit, decodeCursor } from '../cursor.ts';
import { idBatches } from '../id-batches.ts';
import {
  capabilitiesFromRow,
  executionColumns,
  executionFromRow,
  jobColumns,
  jobFromRow,
  mergeExecution,
  pageOf,
  qualifiedExecutionColumns,
  sqlList,
  type ExecutionRow,
  type JobRow,
} from '../job-rows.ts';
import type {
  ExecutionChange,
  ExecutionCounts,
  ExecutionRecord,
  JobFilter,
  JobRecord,
  JobStore,
  NewJob,
} from '../job-types.ts';
import type { Page, PageRequest } from '../types.ts';
import { runSync } from './sqlite-errors.ts';

const sql = {
  insertJob: `INSERT INTO jobs (id, spec, operation, state, created_by, device_count, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${jobColumns}`,
  insertExecution: `INSERT INTO job_executions (id, job_id, device_id, state, created_at, updated_at)
    VALUES (?, ?, ?, 'queued', ?, ?)`,
  selectJob: `SELECT ${jobColumns} FROM jobs WHERE id = ?`,
  listJobs: `SELECT ${jobColumns} FROM jobs WHERE (@after IS NULL OR id < @after) AND (@state IS NULL OR state = @state)
    AND (@operation IS NULL OR operation = @operation) AND (@createdBy IS NULL OR created_by = @createdBy)
    ORDER BY id DESC LIMIT @limit`,
  activeJobs: `SELECT ${jobColumns} FROM jobs WHERE state IN ('scheduled', 'in-progress') ORDER BY id`,
  updateJobState: `UPDATE jobs SET state = ?, reason = ?, updated_at = ?,
    started_at = CASE WHEN ? = 'in-progress' THEN ? ELSE started_at END,
    finished_at = CASE WHEN ? IN (${sqlList(finalJobStates)}) THEN ? ELSE finished_at END
    WHERE id = ? AND state = ?`,
  selectExecution: `SELECT ${executionColumns} FROM job_executions WHERE id = ?`,
  findExecution: `SELECT ${executionColumns} FROM job_executions WHERE job_id = ? AND device_id = ?`,
  countExecutions: 'SELECT state, count(*) AS count FROM job_executions WHERE job_id = ? GROUP BY state',
  listExecutions: `SELECT ${executionColumns} FROM job_executions WHERE job_id = @jobId AND (@after IS NULL OR device_id > @after)
    AND (@state IS NULL OR state = @state) ORDER BY device_id LIMIT @limit`,
  deviceExecutions: `SELECT ${executionColumns} FROM job_executions WHERE device_id = ? ORDER BY job_id DESC LIMIT ?`,
  sendable: `SELECT ${qualifiedExecutionColumns('e')} FROM job_executions e JOIN devices d ON d.id = e.device_id
    WHERE e.job_id = ? AND e.state = 'queued' AND (e.not_before IS NULL OR e.not_before <= ?)
    AND d.connection_state = 'online' ORDER BY e.device_id LIMIT ?`,
  pendingOfDevice: `SELECT ${qualifiedExecutionColumns('e')} FROM job_executions e JOIN jobs j ON j.id = e.job_id
    WHERE e.device_id = ? AND e.state IN ('queued', 'sent') AND j.state = 'in-progress' ORDER BY e.job_id`,
  overdue: `SELECT ${executionColumns} FROM job_executions WHERE job_id = ? AND state IN ('sent', 'in-progress')
    AND deadline < ? ORDER BY device_id LIMIT ?`,
  countSentSince: 'SELECT count(*) AS count FROM job_executions WHERE job_id = ? AND sent_at >= ?',
  updateExecution: `UPDATE job_executions SET state = ?, attempt = ?, code = ?, message = ?, result = ?, sent_at = ?,
    deadline = ?, not_before = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
  selectInStates: `SELECT id, device_id, state FROM job_executions WHERE job_id = ?
    AND state IN (SELECT value FROM json_each(?)) ORDER BY device_id`,
  finishInStates: `UPDATE job_executions SET state = ?, code = ?, message = ?, deadline = NULL, updated_at = ?,
    finished_at = ? WHERE job_id = ? AND state IN (SELECT value FROM json_each(?))`,
  recordLogs: 'UPDATE job_executions SET log_file = ?, log_bytes = ?, updated_at = ? WHERE id = ?',
  putCapabilities: `INSERT INTO device_capabilities (device_id, capabilities, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET capabilities = excluded.capabilities, updated_at = excluded.updated_at`,
  getCapabilities: `SELECT device_id, capabilities FROM device_capabilities
    WHERE device_id IN (SELECT value FROM json_each(?))`,
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }

  #read<T>(work: () => T): Promise<T> {
    return runSync(this.#db, work);
  }

  createJob(job: NewJob, atMs: number): Promise<JobRecord> {
    return this.#write(() => {
      const row = this.#s.insertJob.get(
        job.id,
        JSON.stringify(job.spec),
        job.spec.operation,
        job.state,
        job.createdBy,
        job.executions.length,
        atMs,
        atMs,
      ) as JobRow;
      for (const execution of job.executions)
        this.#s.insertExecution.run(execution.id, job.id, execution.deviceId, atMs, atMs);
      return jobFromRow(row);
    });
  }

  getJob(id: string): Promise<JobRecord | undefined> {
    return this.#read(() => {
      const row = this.#s.selectJob.get(id) as JobRow | undefined;
      return row && jobFromRow(row);
    });
  }

  listJobs(filter: JobFilter, page: PageRequest): Promise<Page<JobRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    return this.#read(() => {
      const rows = this.#s.listJobs.all({
        after,
        state: filter.state ?? null,
        operation: filter.operation ?? null,
        createdBy: filter.createdBy ?? null,
        limit: page.limit + 1,
      }) as JobRow[];
      return pageOf(rows.map(jobFromRow), page.limit, (job) => job.id);
    });
  }

  listActiveJobs(): Promise<JobRecord[]> {
    return this.#read(() => (this.#s.activeJobs.all() as JobRow[]).map(jobFromRow));
  }

  updateJobState(
    id: string,
    from: JobState,
    to: JobState,
    reason: string | null,
    atMs: number,
  ): Promise<boolean> {
    return this.#write(
      () => this.#s.updateJobState.run(to, reason, atMs, to, atMs, to, atMs, id, from).changes === 1,
    );
  }

  getExecution(id: string): Promise<ExecutionRecord | undefined> {
    return this.#read(() => this.#execution(id));
  }

  #execution(id: string): ExecutionRecord | undefined {
    const row = this.#s.selectExecution.get(id) as ExecutionRow | undefined;
    return row && executionFromRow(row);
  }

  findExecution(jobId: string, deviceId: string): Promise<ExecutionRecord | undefined> {
    return this.#read(() => {
      const row = this.#s.findExecution.get(jobId, deviceId) as ExecutionRow | undefined;
      return row && executionFromRow(row);
    });
  }

  countExecutions(jobId: string): Promise<ExecutionCounts> {
    return this.#read(() => {
      const counts: ExecutionCounts = {};
      const rows = this.#s.countExecutions.all(jobId) as Array<{ state: ExecutionState; count: number }>;
      for (const row of rows) counts[row.state] = Number(row.count);
      return counts;
    });
  }

  listExecutions(
    jobId: string,
    filter: { state?: ExecutionState },
    page: PageRequest,
  ): Promise<Page<ExecutionRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    return this.#read(() => {
      const rows = this.#s.listExecutions.all({
        jobId,
        after,
        state: filter.state ?? null,
        limit: page.limit + 1,
      }) as ExecutionRow[];
      return pageOf(rows.map(executionFromRow), page.limit, (e) => e.deviceId);
    });
  }

  listDeviceExecutions(deviceId: string, limit: number): Promise<ExecutionRecord[]> {
    return this.#read(() =>
      (this.#s.deviceExecutions.all(deviceId, limit) as ExecutionRow[]).map(executionFromRow),
    );
  }

  sendableExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]> {
    return this.#read(() =>
      (this.#s.sendable.all(jobId, nowMs, limit) as ExecutionRow[]).map(executionFromRow),
    );
  }

  pendingExecutionsOfDevice(deviceId: string): Promise<ExecutionRecord[]> {
    return this.#read(() => (this.#s.pendingOfDevice.all(deviceId) as ExecutionRow[]).map(executionFromRow));
  }

  overdueExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]> {
    return this.#read(() =>
      (this.#s.overdue.all(jobId, nowMs, limit) as ExecutionRow[]).map(executionFromRow),
    );
  }

  countSentSince(jobId: string, sinceMs: number): Promise<number> {
    return this.#read(() => Number((this.#s.countSentSince.get(jobId, sinceMs) as { count: number }).count));
  }

  updateExecution(
    id: string,
    expected: { state: ExecutionState; attempt: number },
    change: ExecutionChange,
    atMs: number,
  ): Promise<boolean> {
    return this.#write(() => {
      const current = this.#execution(id);
      if (current === undefined || current.state !== expected.state || current.attempt !== expected.attempt)
        return false;
      const next = mergeExecution(current, change, atMs);
      this.#s.updateExecution.run(
        next.state,
        next.attempt,
        next.code,
        next.message,
        next.result === null ? null : JSON.stringify(next.result),
        next.sentAtMs,
        next.deadlineMs,
        next.notBeforeMs,
        atMs,
        next.finishedAtMs,
        id,
      );
      return true;
    });
  }

  finishExecutions(
    jobId: string,
    from: readonly ExecutionState[],
    to: ExecutionState,
    outcome: { code: string; message: string },
    atMs: number,
  ): Promise<Array<Pick<ExecutionRecord, 'id' | 'deviceId' | 'state'>>> {
    const states = JSON.stringify(from);
    return this.#write(() => {
      const rows = this.#s.selectInStates.all(jobId, states) as Array<{
        id: string;
        device_id: string;
        state: ExecutionState;
      }>;
      this.#s.finishInStates.run(to, outcome.code, outcome.message, atMs, atMs, jobId, states);
      return rows.map((row) => ({ id: row.id, deviceId: row.device_id, state: row.state }));
    });
  }

  recordLogs(executionId: string, logFile: string, logBytes: number, atMs: number): Promise<void> {
    return this.#write(() => {
      this.#s.recordLogs.run(logFile, logBytes, atMs, executionId);
    });
  }

  putCapabilities(deviceId: string, capabilities: JobCapabilities, atMs: number): Promise<void> {
    return this.#write(() => {
      this.#s.putCapabilities.run(deviceId, JSON.stringify(capabilities), atMs);
    });
  }

  getCapabilities(deviceIds: readonly string[]): Promise<Map<string, JobCapabilities>> {
    return this.#read(() => {
      const found = new Map<string, JobCapabilities>();
      for (const batch of idBatches(deviceIds)) {
        const rows = this.#s.getCapabilities.all(JSON.stringify(batch)) as Array<{
          device_id: string;
          capabilities: unknown;
        }>;
        for (const row of rows) found.set(row.device_id, capabilitiesFromRow(row));
      }
      return found;
    });
  }
}
