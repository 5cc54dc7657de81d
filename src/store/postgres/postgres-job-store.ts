/**
 * The job store on the same pg.Pool (PgSession) as the other stores. A job's executions are
 * inserted with unnest() in chunks, so a 10,000-device job is a handful of statements.
 */
import type { JobCapabilities } from '../../contracts/job-messages.ts';
import { finalJobStates, type ExecutionState, type JobState } from '../../jobs/job-states.ts';
import { checkPageLimit, decodeCursor } from '../cursor.ts';
import { chunked, idBatches } from '../id-batches.ts';
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
import { firstRow, type PgSession } from './pg-session.ts';

/** Executions per INSERT … unnest() statement. */
const INSERT_CHUNK = 5000;

const sql = {
  insertJob: `INSERT INTO jobs (id, spec, operation, state, created_by, device_count, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${jobColumns}`,
  insertExecutions: `INSERT INTO job_executions (id, job_id, device_id, state, created_at, updated_at)
    SELECT id, $1, device_id, 'queued', $2, $2 FROM unnest($3::text[], $4::text[]) AS e (id, device_id)`,
  selectJob: `SELECT ${jobColumns} FROM jobs WHERE id = $1`,
  listJobs: `SELECT ${jobColumns} FROM jobs WHERE ($1::text IS NULL OR id < $1) AND ($2::text IS NULL OR state = $2)
    AND ($3::text IS NULL OR operation = $3) AND ($4::text IS NULL OR created_by = $4) ORDER BY id DESC LIMIT $5`,
  activeJobs: `SELECT ${jobColumns} FROM jobs WHERE state IN ('scheduled', 'in-progress') ORDER BY id`,
  updateJobState: `UPDATE jobs SET state = $1, reason = $2, updated_at = $3,
    started_at = CASE WHEN $1 = 'in-progress' THEN $3 ELSE started_at END,
    finished_at = CASE WHEN $1 IN (${sqlList(finalJobStates)}) THEN $3 ELSE finished_at END
    WHERE id = $4 AND state = $5`,
  selectExecution: `SELECT ${executionColumns} FROM job_executions WHERE id = $1`,
  lockExecution: `SELECT ${executionColumns} FROM job_executions WHERE id = $1 FOR UPDATE`,
  findExecution: `SELECT ${executionColumns} FROM job_executions WHERE job_id = $1 AND device_id = $2`,
  countExecutions: 'SELECT state, count(*) AS count FROM job_executions WHERE job_id = $1 GROUP BY state',
  listExecutions: `SELECT ${executionColumns} FROM job_executions WHERE job_id = $1
    AND ($2::text IS NULL OR device_id > $2) AND ($3::text IS NULL OR state = $3) ORDER BY device_id LIMIT $4`,
  deviceExecutions: `SELECT ${executionColumns} FROM job_executions WHERE device_id = $1 ORDER BY job_id DESC LIMIT $2`,
  sendable: `SELECT ${qualifiedExecutionColumns('e')} FROM job_executions e JOIN devices d ON d.id = e.device_id
    WHERE e.job_id = $1 AND e.state = 'queued' AND (e.not_before IS NULL OR e.not_before <= $2)
    AND d.connection_state = 'online' ORDER BY e.device_id LIMIT $3`,
  pendingOfDevice: `SELECT ${qualifiedExecutionColumns('e')} FROM job_executions e JOIN jobs j ON j.id = e.job_id
    WHERE e.device_id = $1 AND e.state IN ('queued', 'sent') AND j.state = 'in-progress' ORDER BY e.job_id`,
  overdue: `SELECT ${executionColumns} FROM job_executions WHERE job_id = $1 AND state IN ('sent', 'in-progress')
    AND deadline < $2 ORDER BY device_id LIMIT $3`,
  countSentSince: 'SELECT count(*) AS count FROM job_executions WHERE job_id = $1 AND sent_at >= $2',
  updateExecution: `UPDATE job_executions SET state = $1, attempt = $2, code = $3, message = $4, result = $5,
    sent_at = $6, deadline = $7, not_before = $8, updated_at = $9, finished_at = $10 WHERE id = $11`,
  finishInStates: `WITH moved AS (SELECT id, state FROM job_executions WHERE job_id = $1 AND state = ANY($2::text[])
      FOR UPDATE)
    UPDATE job_executions e SET state = $3, code = $4, message = $5, deadline = NULL, updated_at = $6, finished_at = $6
    FROM moved WHERE e.id = moved.id RETURNING e.id, e.device_id, moved.state AS previous`,
  recordLogs: 'UPDATE job_executions SET log_file = $1, log_bytes = $2, updated_at = $3 WHERE id = $4',
  putCapabilities: `INSERT INTO device_capabilities (device_id, capabilities, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (device_id) DO UPDATE SET capabilities = excluded.capabilities, updated_at = excluded.updated_at`,
  getCapabilities:
    'SELECT device_id, capabilities FROM device_capabilities WHERE device_id = ANY($1::text[])',
} as const;

export class PostgresJobStore implements JobStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async #rows<R extends object>(text: string, params: unknown[]): Promise<R[]> {
    return (await this.#session.query<R & Record<string, unknown>>(text, params)).rows;
  }

  createJob(job: NewJob, atMs: number): Promise<JobRecord> {
    return this.#session.transaction(async (client) => {
      const inserted = await client.query<JobRow>(sql.insertJob, [
        job.id,
        JSON.stringify(job.spec),
        job.spec.operation,
        job.state,
        job.createdBy,
        job.executions.length,
        atMs,
      ]);
      for (const chunk of chunked(job.executions, INSERT_CHUNK)) {
        await client.query(sql.insertExecutions, [
          job.id,
          atMs,
          chunk.map((e) => e.id),
          chunk.map((e) => e.deviceId),
        ]);
      }
      return jobFromRow(firstRow(inserted));
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = (await this.#rows<JobRow>(sql.selectJob, [id]))[0];
    return row && jobFromRow(row);
  }

  async listJobs(filter: JobFilter, page: PageRequest): Promise<Page<JobRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    const rows = await this.#rows<JobRow>(sql.listJobs, [
      after,
      filter.state ?? null,
      filter.operation ?? null,
      filter.createdBy ?? null,
      page.limit + 1,
    ]);
    return pageOf(rows.map(jobFromRow), page.limit, (job) => job.id);
  }

  async listActiveJobs(): Promise<JobRecord[]> {
    return (await this.#rows<JobRow>(sql.activeJobs, [])).map(jobFromRow);
  }

  async updateJobState(
    id: string,
    from: JobState,
    to: JobState,
    reason: string | null,
    atMs: number,
  ): Promise<boolean> {
    const result = await this.#session.query(sql.updateJobState, [to, reason, atMs, id, from]);
    return result.rowCount === 1;
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const row = (await this.#rows<ExecutionRow>(sql.selectExecution, [id]))[0];
    return row && executionFromRow(row);
  }

  async findExecution(jobId: string, deviceId: string): Promise<ExecutionRecord | undefined> {
    const row = (await this.#rows<ExecutionRow>(sql.findExecution, [jobId, deviceId]))[0];
    return row && executionFromRow(row);
  }

  async countExecutions(jobId: string): Promise<ExecutionCounts> {
    const counts: ExecutionCounts = {};
    const rows = await this.#rows<{ state: ExecutionState; count: string }>(sql.countExecutions, [jobId]);
    for (const row of rows) counts[row.state] = Number(row.count);
    return counts;
  }

  async listExecutions(
    jobId: string,
    filter: { state?: ExecutionState },
    page: PageRequest,
  ): Promise<Page<ExecutionRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    const rows = await this.#rows<ExecutionRow>(sql.listExecutions, [
      jobId,
      after,
      filter.state ?? null,
      page.limit + 1,
    ]);
    return pageOf(rows.map(executionFromRow), page.limit, (e) => e.deviceId);
  }

  async listDeviceExecutions(deviceId: string, limit: number): Promise<ExecutionRecord[]> {
    return (await this.#rows<ExecutionRow>(sql.deviceExecutions, [deviceId, limit])).map(executionFromRow);
  }

  async sendableExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]> {
    return (await this.#rows<ExecutionRow>(sql.sendable, [jobId, nowMs, limit])).map(executionFromRow);
  }

  async pendingExecutionsOfDevice(deviceId: string): Promise<ExecutionRecord[]> {
    return (await this.#rows<ExecutionRow>(sql.pendingOfDevice, [deviceId])).map(executionFromRow);
  }

  async overdueExecutions(jobId: string, nowMs: number, limit: number): Promise<ExecutionRecord[]> {
    return (await this.#rows<ExecutionRow>(sql.overdue, [jobId, nowMs, limit])).map(executionFromRow);
  }

  async countSentSince(jobId: string, sinceMs: number): Promise<number> {
    const row = (await this.#rows<{ count: string }>(sql.countSentSince, [jobId, sinceMs]))[0];
    return Number(row?.count ?? 0);
  }

  updateExecution(
    id: string,
    expected: { state: ExecutionState; attempt: number },
    change: ExecutionChange,
    atMs: number,
  ): Promise<boolean> {
    return this.#session.transaction(async (client) => {
      const row = (await client.query<ExecutionRow>(sql.lockExecution, [id])).rows[0];
      if (row === undefined) return false;
      const current = executionFromRow(row);
      if (current.state !== expected.state || current.attempt !== expected.attempt) return false;
      const next = mergeExecution(current, change, atMs);
      await client.query(sql.updateExecution, [
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
      ]);
      return true;
    });
  }

  async finishExecutions(
    jobId: string,
    from: readonly ExecutionState[],
    to: ExecutionState,
    outcome: { code: string; message: string },
    atMs: number,
  ): Promise<Array<Pick<ExecutionRecord, 'id' | 'deviceId' | 'state'>>> {
    const rows = await this.#rows<{ id: string; device_id: string; previous: ExecutionState }>(
      sql.finishInStates,
      [jobId, [...from], to, outcome.code, outcome.message, atMs],
    );
    return rows
      .map((row) => ({ id: row.id, deviceId: row.device_id, state: row.previous }))
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  async recordLogs(executionId: string, logFile: string, logBytes: number, atMs: number): Promise<void> {
    await this.#session.query(sql.recordLogs, [logFile, logBytes, atMs, executionId]);
  }

  async putCapabilities(deviceId: string, capabilities: JobCapabilities, atMs: number): Promise<void> {
    await this.#session.query(sql.putCapabilities, [deviceId, JSON.stringify(capabilities), atMs]);
  }

  async getCapabilities(deviceIds: readonly string[]): Promise<Map<string, JobCapabilities>> {
    const found = new Map<string, JobCapabilities>();
    for (const batch of idBatches(deviceIds)) {
      const rows = await this.#rows<{ device_id: string; capabilities: unknown }>(sql.getCapabilities, [
        batch,
      ]);
      for (const row of rows) found.set(row.device_id, capabilitiesFromRow(row));
    }
    return found;
  }
}
