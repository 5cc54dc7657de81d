/**
 * The update store on the same better-sqlite3 handle as the other stores. Writes of more than one
 * row run in one IMMEDIATE transaction, which takes the file's write lock before the first read.
 */
import Database from 'better-sqlite3';
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
import { runSync } from './sqlite-errors.ts';

type Row = ExecutionRow<number, number, number>;
type DRow = DeploymentRow<number, number>;

const codec: UpdateCodec<number, number, number> = {
  time: (ms) => ms,
  timeMs: (value) => value,
  flag: (value) => (value ? 1 : 0),
  readFlag: (value) => value === 1,
  readBig: (value) => value,
};

// Named parameters: `?` binds by textual order, but the shared SQL numbers them by position.
// A list is bound as one JSON array (id-batches.ts).
const sql = updateSql(
  (position) => `@p${position}`,
  '',
  (placeholder) => `IN (SELECT value FROM json_each(${placeholder}))`,
);

interface Positional {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}
type Statements = Record<keyof typeof sql, Positional>;

/** A statement with `@p1, @p2, …` called with positional arguments. */
function positional(statement: Database.Statement<[Record<string, unknown>], unknown>): Positional {
  const bind = (params: unknown[]) =>
    Object.fromEntries(params.map((value, index) => [`p${index + 1}`, value]));
  return {
    get: (...params) => statement.get(bind(params)),
    all: (...params) => statement.all(bind(params)),
    run: (...params) => statement.run(bind(params)),
  };
}

export class SqliteUpdateStore implements UpdateStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, positional(db.prepare(text))] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  #write<T>(work: () => T): Promise<T> {
    return runSync(this.#db, () => this.#db.transaction(work).immediate());
  }

  #history(a: ActiveAssignment, atMs: number, state: ExecutionState, rest: unknown[] = [null, null, null]) {
    this.#s.insertHistory.run(a.deviceId, a.deploymentId, atMs, state, ...rest);
  }

  createDeployment(
    deployment: NewDeployment,
    options: { replace: boolean },
    atMs: number,
  ): Promise<{ deployment: Deployment; replaced: ActiveAssignment[] }> {
    return this.#write(() => {
      validateNewDeployment(deployment);
      const active = deployment.deviceIds.flatMap((deviceId) => {
        const row = this.#s.activeOfDevice.get(deviceId) as Row | undefined;
        return row ? [{ deviceId, deploymentId: row.deployment_id }] : [];
      });
      if (active.length > 0 && !options.replace) throw activeUpdateConflict(active);
      let row: DRow;
      try {
        row = this.#s.insertDeployment.get(...deploymentParams(deployment, atMs, codec)) as DRow;
      } catch (error) {
        throw constraintError(error, deployment);
      }
      const detail = `replaced by deployment ${deployment.id}`;
      for (const a of active) {
        this.#s.cancelExecution.run(a.deviceId, a.deploymentId, detail, atMs, atMs);
        this.#history(a, atMs, 'cancelled', [null, null, detail]);
      }
      for (const deviceId of deployment.deviceIds) {
        try {
          this.#s.insertExecution.run(deviceId, deployment.id, atMs, atMs);
        } catch (error) {
          throw constraintError(error, deployment);
        }
        this.#history({ deviceId, deploymentId: deployment.id }, atMs, 'offered');
      }
      return { deployment: deploymentFromRow(row, codec), replaced: active };
    });
  }

  getDeployment(id: string): Promise<Deployment | undefined> {
    return runSync(this.#db, () => {
      const row = this.#s.selectDeployment.get(id) as DRow | undefined;
      return row && deploymentFromRow(row, codec);
    });
  }

  listDeployments(page: PageRequest): Promise<Page<Deployment>> {
    return runSync(this.#db, () => {
      const rows = (
        page.cursor === undefined
          ? this.#s.listDeployments.all(page.limit + 1)
          : this.#s.listDeploymentsBefore.all(decodeCursor(page.cursor), page.limit + 1)
      ) as DRow[];
      return toPage(rows, page.limit, (row) => deploymentFromRow(row, codec));
    });
  }

  cancelDeployment(id: string, atMs: number): Promise<{ deployment: Deployment; withdrawn: string[] }> {
    return this.#write(() => {
      const row = this.#s.cancelDeployment.get(id, atMs) as DRow | undefined;
      if (row === undefined) throw new NotFoundError(`deployment ${id} not found`, { deploymentId: id });
      const withdrawn = (this.#s.activeOfDeployment.all(id) as Array<{ device_id: string }>).map(
        (r) => r.device_id,
      );
      for (const deviceId of withdrawn) {
        this.#s.cancelExecution.run(deviceId, id, 'deployment cancelled', atMs, atMs);
        this.#history({ deviceId, deploymentId: id }, atMs, 'cancelled', [
          null,
          null,
          'deployment cancelled',
        ]);
      }
      return { deployment: deploymentFromRow(row, codec), withdrawn };
    });
  }

  listActiveAssignments(page: PageRequest): Promise<Page<ActiveAssignment>> {
    return runSync(this.#db, () => {
      const after = page.cursor === undefined ? '' : decodeCursor(page.cursor);
      const rows = this.#s.activeAssignments.all(after, page.limit + 1) as Array<{
        device_id: string;
        deployment_id: string;
      }>;
      return toPage(
        rows.map((r) => ({ id: r.device_id, deploymentId: r.deployment_id })),
        page.limit,
        (r) => ({ deviceId: r.id, deploymentId: r.deploymentId }),
      );
    });
  }

  activeExecution(
    deviceId: string,
  ): Promise<{ execution: UpdateExecution; deployment: Deployment } | undefined> {
    return runSync(this.#db, () => {
      const row = this.#s.activeOfDevice.get(deviceId) as Row | undefined;
      if (row === undefined) return undefined;
      const deployment = this.#s.selectDeployment.get(row.deployment_id) as DRow;
      return { execution: executionFromRow(row, codec), deployment: deploymentFromRow(deployment, codec) };
    });
  }

  activeExecutions(
    deviceIds: readonly string[],
  ): Promise<Map<string, { execution: UpdateExecution; deployment: Deployment }>> {
    return runSync(this.#db, () => {
      const found = new Map<string, { execution: UpdateExecution; deployment: Deployment }>();
      for (const batch of idBatches(deviceIds)) {
        const rows = this.#s.activeOfDevices.all(JSON.stringify(batch)) as Row[];
        const ids = JSON.stringify([...new Set(rows.map((r) => r.deployment_id))]);
        const deployments = new Map(
          (this.#s.deploymentsByIds.all(ids) as DRow[]).map((d) => [d.id, deploymentFromRow(d, codec)]),
        );
        for (const row of rows) {
          const deployment = deployments.get(row.deployment_id);
          if (deployment) found.set(row.device_id, { execution: executionFromRow(row, codec), deployment });
        }
      }
      return found;
    });
  }

  executionsOfDeployments(deploymentIds: readonly string[]): Promise<UpdateExecution[]> {
    return runSync(this.#db, () =>
      idBatches(deploymentIds).flatMap((batch) =>
        (this.#s.executionsOfDeployments.all(JSON.stringify(batch)) as Row[]).map((r) =>
          executionFromRow(r, codec),
        ),
      ),
    );
  }

  applyStatus(deviceId: string, status: UpdateStatus, atMs: number): Promise<AppliedStatus> {
    return this.#write((): AppliedStatus => {
      const rows = this.#s.executionsOfDevice.all(deviceId) as Row[];
      const row = rows.find((r) => r.deployment_id === status.deploymentId);
      const deploymentRow = row && (this.#s.selectDeployment.get(status.deploymentId) as DRow | undefined);
      const decision = decideStatus(status, {
        execution: row && executionFromRow(row, codec),
        version: deploymentRow?.version,
        deviceLastSeq: deviceLastSeq(rows, codec),
      });
      if (decision.kind === 'drop' || deploymentRow === undefined) {
        return { outcome: decision.kind === 'drop' ? decision.outcome : 'not_assigned' };
      }
      const { patch } = decision;
      const updated = this.#s.updateExecution.get(
        ...patchParams(deviceId, status.deploymentId, patch, atMs, codec),
      ) as Row;
      if (patch.transition) {
        this.#history({ deviceId, deploymentId: status.deploymentId }, atMs, patch.state, [
          status.seq,
          patch.reason,
          patch.detail,
        ]);
      }
      return {
        outcome: 'applied',
        execution: executionFromRow(updated, codec),
        deployment: deploymentFromRow(deploymentRow, codec),
        finished: patch.finished,
      };
    });
  }

  countExecutions(deploymentId: string): Promise<Partial<Record<ExecutionState, number>>> {
    return runSync(this.#db, () => {
      const rows = this.#s.countByState.all(deploymentId) as Array<{ state: ExecutionState; n: number }>;
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    });
  }

  listExecutions(deploymentId: string, page: PageRequest): Promise<Page<UpdateExecution>> {
    return runSync(this.#db, () => {
      const after = page.cursor === undefined ? '' : decodeCursor(page.cursor);
      const rows = this.#s.listExecutions.all(deploymentId, after, page.limit + 1) as Row[];
      return toPage(
        rows.map((r) => ({ ...r, id: r.device_id })),
        page.limit,
        (r) => executionFromRow(r, codec),
      );
    });
  }

  listHistory(deviceId: string, options: { limit: number }): Promise<UpdateHistoryEntry[]> {
    return runSync(this.#db, () =>
      (this.#s.listHistory.all(deviceId, options.limit) as Array<HistoryRow<number, number>>).map((r) =>
        historyFromRow(r, codec),
      ),
    );
  }
}

/** A duplicate id, or a device/release that does not exist, as the store's typed errors. */
function constraintError(error: unknown, deployment: NewDeployment): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  switch (error.code) {
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      return new ConflictError(`deployment ${deployment.id} already exists`, { deploymentId: deployment.id });
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return new ValidationError('the release or one of the devices does not exist', {
        field: 'deviceIds',
      });
    case 'SQLITE_CONSTRAINT_UNIQUE':
      return activeUpdateConflict([]);
    default:
      return error;
  }
}
