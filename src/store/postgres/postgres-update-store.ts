/**
 * The update store on the same pg.Pool (PgSession) as the other stores. Multi-row writes run in
 * one transaction; a device's execution rows are locked (FOR UPDATE) so statuses and deployments
 * for one device apply one after another across replicas.
 */
import type pg from 'pg';
import type { UpdateStatus } from '../../contracts/update-messages.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import { idBatches } from '../id-batches.ts';
import type { Page, PageRequest } from '../types.ts';
import {
  deploymentFromRow,
  deploymentParams,
  deviceLastSeq,
  executionFromRow,
  historyFromRow,
  patchParams,
  updateSql,
  type DeploymentRow,
  type ExecutionRow,
  type HistoryRow,
  type UpdateCodec,
} from '../update-rows.ts';
import { activeUpdateConflict, decideStatus, validateNewDeployment } from '../update-rules.ts';
import type {
  ActiveAssignment,
  AppliedStatus,
  Deployment,
  ExecutionState,
  NewDeployment,
  UpdateExecution,
  UpdateHistoryEntry,
  UpdateStore,
} from '../update-types.ts';
import { firstRow, type PgSession } from './pg-session.ts';

/** pg returns bigint (and count) as text. */
type Row = ExecutionRow<Date, boolean, string>;
type DRow = DeploymentRow<Date, boolean>;

const codec: UpdateCodec<Date, boolean, string> = {
  time: (ms) => new Date(ms),
  timeMs: (value) => value.getTime(),
  flag: (value) => value,
  readFlag: (value) => value,
  // seqs and byte counts are safe integers (the status schema checks them on the way in).
  readBig: (value) => Number(value),
};

// A list is bound as one text[] (id-batches.ts).
const sql = updateSql(
  (position) => `$${position}`,
  ' FOR UPDATE',
  (placeholder) => `= ANY(${placeholder}::text[])`,
);

export class PostgresUpdateStore implements UpdateStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async createDeployment(
    deployment: NewDeployment,
    options: { replace: boolean },
    atMs: number,
  ): Promise<{ deployment: Deployment; replaced: ActiveAssignment[] }> {
    validateNewDeployment(deployment);
    try {
      return await this.#session.transaction(async (client) => {
        const active: ActiveAssignment[] = [];
        for (const deviceId of deployment.deviceIds) {
          const row = (await client.query<Row>(sql.lockActiveOfDevice, [deviceId])).rows[0];
          if (row) active.push({ deviceId, deploymentId: row.deployment_id });
        }
        if (active.length > 0 && !options.replace) throw activeUpdateConflict(active);
        const row = firstRow(
          await client.query<DRow>(sql.insertDeployment, deploymentParams(deployment, atMs, codec)),
        );
        const at = codec.time(atMs);
        const detail = `replaced by deployment ${deployment.id}`;
        for (const a of active) {
          await client.query(sql.cancelExecution, [a.deviceId, a.deploymentId, detail, at, at]);
          await history(client, a, at, 'cancelled', [null, null, detail]);
        }
        for (const deviceId of deployment.deviceIds) {
          await client.query(sql.insertExecution, [deviceId, deployment.id, at, at]);
          await history(client, { deviceId, deploymentId: deployment.id }, at, 'offered');
        }
        return { deployment: deploymentFromRow(row, codec), replaced: active };
      });
    } catch (error) {
      throw constraintError(error, deployment);
    }
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = (await this.#session.query<DRow>(sql.selectDeployment, [id])).rows[0];
    return row && deploymentFromRow(row, codec);
  }

  async listDeployments(page: PageRequest): Promise<Page<Deployment>> {
    const result =
      page.cursor === undefined
        ? await this.#session.query<DRow>(sql.listDeployments, [page.limit + 1])
        : await this.#session.query<DRow>(sql.listDeploymentsBefore, [
            decodeCursor(page.cursor),
            page.limit + 1,
          ]);
    return toPage(result.rows, page.limit, (row) => deploymentFromRow(row, codec));
  }

  cancelDeployment(id: string, atMs: number): Promise<{ deployment: Deployment; withdrawn: string[] }> {
    return this.#session.transaction(async (client) => {
      const at = codec.time(atMs);
      const row = (await client.query<DRow>(sql.cancelDeployment, [id, at])).rows[0];
      if (row === undefined) throw new NotFoundError(`deployment ${id} not found`, { deploymentId: id });
      const active = await client.query<{ device_id: string }>(sql.activeOfDeployment, [id]);
      const withdrawn = active.rows.map((r) => r.device_id);
      for (const deviceId of withdrawn) {
        await client.query(sql.cancelExecution, [deviceId, id, 'deployment cancelled', at, at]);
        await history(client, { deviceId, deploymentId: id }, at, 'cancelled', [
          null,
          null,
          'deployment cancelled',
        ]);
      }
      return { deployment: deploymentFromRow(row, codec), withdrawn };
    });
  }

  async listActiveAssignments(page: PageRequest): Promise<Page<ActiveAssignment>> {
    const after = page.cursor === undefined ? '' : decodeCursor(page.cursor);
    const result = await this.#session.query<{ device_id: string; deployment_id: string }>(
      sql.activeAssignments,
      [after, page.limit + 1],
    );
    return toPage(
      result.rows.map((r) => ({ id: r.device_id, deploymentId: r.deployment_id })),
      page.limit,
      (r) => ({ deviceId: r.id, deploymentId: r.deploymentId }),
    );
  }

  async activeExecution(
    deviceId: string,
  ): Promise<{ execution: UpdateExecution; deployment: Deployment } | undefined> {
    const row = (await this.#session.query<Row>(sql.activeOfDevice, [deviceId])).rows[0];
    if (row === undefined) return undefined;
    const deployment = firstRow(await this.#session.query<DRow>(sql.selectDeployment, [row.deployment_id]));
    return { execution: executionFromRow(row, codec), deployment: deploymentFromRow(deployment, codec) };
  }

  async activeExecutions(
    deviceIds: readonly string[],
  ): Promise<Map<string, { execution: UpdateExecution; deployment: Deployment }>> {
    const found = new Map<string, { execution: UpdateExecution; deployment: Deployment }>();
    for (const batch of idBatches(deviceIds)) {
      const rows = (await this.#session.query<Row>(sql.activeOfDevices, [batch])).rows;
      const ids = [...new Set(rows.map((r) => r.deployment_id))];
      const result = await this.#session.query<DRow>(sql.deploymentsByIds, [ids]);
      const deployments = new Map(result.rows.map((d) => [d.id, deploymentFromRow(d, codec)]));
      for (const row of rows) {
        const deployment = deployments.get(row.deployment_id);
        if (deployment) found.set(row.device_id, { execution: executionFromRow(row, codec), deployment });
      }
    }
    return found;
  }

  async executionsOfDeployments(deploymentIds: readonly string[]): Promise<UpdateExecution[]> {
    const executions: UpdateExecution[] = [];
    for (const batch of idBatches(deploymentIds)) {
      const result = await this.#session.query<Row>(sql.executionsOfDeployments, [batch]);
      for (const row of result.rows) executions.push(executionFromRow(row, codec));
    }
    return executions;
  }

  applyStatus(deviceId: string, status: UpdateStatus, atMs: number): Promise<AppliedStatus> {
    return this.#session.transaction(async (client): Promise<AppliedStatus> => {
      const rows = (await client.query<Row>(sql.executionsOfDevice, [deviceId])).rows;
      const row = rows.find((r) => r.deployment_id === status.deploymentId);
      const deploymentRow =
        row && (await client.query<DRow>(sql.selectDeployment, [status.deploymentId])).rows[0];
      const decision = decideStatus(status, {
        execution: row && executionFromRow(row, codec),
        version: deploymentRow?.version,
        deviceLastSeq: deviceLastSeq(rows, codec),
      });
      if (decision.kind === 'drop' || deploymentRow === undefined) {
        return { outcome: decision.kind === 'drop' ? decision.outcome : 'not_assigned' };
      }
      const { patch } = decision;
      const updated = firstRow(
        await client.query<Row>(
          sql.updateExecution,
          patchParams(deviceId, status.deploymentId, patch, atMs, codec),
        ),
      );
      if (patch.transition) {
        await history(
          client,
          { deviceId, deploymentId: status.deploymentId },
          codec.time(atMs),
          patch.state,
          [status.seq, patch.reason, patch.detail],
        );
      }
      return {
        outcome: 'applied',
        execution: executionFromRow(updated, codec),
        deployment: deploymentFromRow(deploymentRow, codec),
        finished: patch.finished,
      };
    });
  }

  async countExecutions(deploymentId: string): Promise<Partial<Record<ExecutionState, number>>> {
    const result = await this.#session.query<{ state: ExecutionState; n: string }>(sql.countByState, [
      deploymentId,
    ]);
    return Object.fromEntries(result.rows.map((r) => [r.state, Number(r.n)]));
  }

  async listExecutions(deploymentId: string, page: PageRequest): Promise<Page<UpdateExecution>> {
    const after = page.cursor === undefined ? '' : decodeCursor(page.cursor);
    const result = await this.#session.query<Row>(sql.listExecutions, [deploymentId, after, page.limit + 1]);
    return toPage(
      result.rows.map((r) => ({ ...r, id: r.device_id })),
      page.limit,
      (r) => executionFromRow(r, codec),
    );
  }

  async listHistory(deviceId: string, options: { limit: number }): Promise<UpdateHistoryEntry[]> {
    const result = await this.#session.query<HistoryRow<Date, string>>(sql.listHistory, [
      deviceId,
      options.limit,
    ]);
    return result.rows.map((r) => historyFromRow(r, codec));
  }
}

function history(
  client: pg.PoolClient,
  a: ActiveAssignment,
  at: Date,
  state: ExecutionState,
  rest: unknown[] = [null, null, null],
): Promise<unknown> {
  return client.query(sql.insertHistory, [a.deviceId, a.deploymentId, at, state, ...rest]);
}

/** A duplicate id, a race for a device's one active execution, or an unknown device or release. */
function constraintError(error: unknown, deployment: NewDeployment): unknown {
  const code = (error as { code?: unknown }).code;
  const constraint = (error as { constraint?: unknown }).constraint;
  if (code === '23505' && constraint === 'deployments_pkey')
    return new ConflictError(`deployment ${deployment.id} already exists`, { deploymentId: deployment.id });
  if (code === '23505' && constraint === 'update_executions_active_key') return activeUpdateConflict([]);
  if (code === '23503')
    return new ValidationError('the release or one of the devices does not exist', { field: 'deviceIds' });
  return error;
}
