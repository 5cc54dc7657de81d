/**
 * The update tables' rows and SQL, shared by both stores. The dialects differ only in how they
 * hold times (epoch ms vs timestamptz), flags (0/1 vs boolean) and bigints (pg returns text), so
 * a codec is passed in; `lock` is PostgreSQL's `FOR UPDATE` (SQLite locks the whole file).
 */
import { isoTime } from '../infra/clock.ts';
import { maintenanceWindowSchema, type MaintenanceWindow } from '../contracts/maintenance-window.ts';
import type { UpdateFailureReason } from '../contracts/update-messages.ts';
import type { ExecutionPatch } from './update-rules.ts';
import type {
  Deployment,
  ExecutionState,
  NewDeployment,
  UpdateExecution,
  UpdateHistoryEntry,
} from './update-types.ts';

export interface UpdateCodec<Time, Flag, Big> {
  time(ms: number): Time;
  /** ms since epoch */
  timeMs(value: Time): number;
  flag(value: boolean): Flag;
  readFlag(value: Flag): boolean;
  readBig(value: Big): number;
}

export interface DeploymentRow<Time, Flag> {
  id: string;
  hardware_model: string;
  version: string;
  target: string;
  install_now: Flag;
  force: Flag;
  /** JSON: TEXT in SQLite, jsonb (parsed by pg) in PostgreSQL. */
  install_window: unknown;
  source: string;
  created_at: Time;
  created_by: string;
  cancelled_at: Time | null;
}

export interface ExecutionRow<Time, Flag, Big> {
  device_id: string;
  deployment_id: string;
  state: ExecutionState;
  progress: number | null;
  reason: UpdateFailureReason | null;
  detail: string | null;
  delta: Flag | null;
  bytes: Big | null;
  last_seq: Big | null;
  offered_at: Time;
  updated_at: Time;
  finished_at: Time | null;
}

export interface HistoryRow<Time, Big> {
  id: Big;
  device_id: string;
  deployment_id: string;
  at: Time;
  state: ExecutionState;
  seq: Big | null;
  reason: UpdateFailureReason | null;
  detail: string | null;
}

type Placeholder = (position: number) => string;

const deploymentColumns =
  'id, hardware_model, version, target, install_now, force, install_window, source, created_at, created_by, cancelled_at';
const executionColumns =
  'device_id, deployment_id, state, progress, reason, detail, delta, bytes, last_seq, offered_at, updated_at, finished_at';
const historyColumns = 'id, device_id, deployment_id, at, state, seq, reason, detail';

const values = (p: Placeholder, count: number) =>
  Array.from({ length: count }, (_, index) => p(index + 1)).join(', ');

/**
 * Every parameter appears once (SQLite's `?` cannot repeat one), so some are passed twice.
 * `inList(placeholder)` is the dialect's "is one of the list bound there" (see id-batches.ts).
 */
export function updateSql(p: Placeholder, lock: string, inList: (placeholder: string) => string) {
  return {
    insertDeployment: `INSERT INTO deployments (${deploymentColumns}) VALUES (${values(p, 11)})
      RETURNING ${deploymentColumns}`,
    selectDeployment: `SELECT ${deploymentColumns} FROM deployments WHERE id = ${p(1)}`,
    listDeployments: `SELECT ${deploymentColumns} FROM deployments ORDER BY id DESC LIMIT ${p(1)}`,
    listDeploymentsBefore: `SELECT ${deploymentColumns} FROM deployments WHERE id < ${p(1)}
      ORDER BY id DESC LIMIT ${p(2)}`,
    cancelDeployment: `UPDATE deployments SET cancelled_at = coalesce(cancelled_at, ${p(2)})
      WHERE id = ${p(1)} RETURNING ${deploymentColumns}`,
    activeOfDevice: `SELECT ${executionColumns} FROM update_executions
      WHERE device_id = ${p(1)} AND finished_at IS NULL`,
    /** The active executions of a batch of devices (the partial unique index serves it). */
    activeOfDevices: `SELECT ${executionColumns} FROM update_executions
      WHERE device_id ${inList(p(1))} AND finished_at IS NULL`,
    deploymentsByIds: `SELECT ${deploymentColumns} FROM deployments WHERE id ${inList(p(1))}`,
    executionsOfDeployments: `SELECT ${executionColumns} FROM update_executions
      WHERE deployment_id ${inList(p(1))}`,
    /** The same, locked for the transaction. */
    lockActiveOfDevice: `SELECT ${executionColumns} FROM update_executions
      WHERE device_id = ${p(1)} AND finished_at IS NULL${lock}`,
    /** Every active assignment, by device id (the partial unique index serves it). */
    activeAssignments: `SELECT device_id, deployment_id FROM update_executions
      WHERE finished_at IS NULL AND device_id > ${p(1)} ORDER BY device_id LIMIT ${p(2)}`,
    activeOfDeployment: `SELECT device_id FROM update_executions
      WHERE deployment_id = ${p(1)} AND finished_at IS NULL ORDER BY device_id${lock}`,
    /** Every execution of a device (a handful over its life), locked: serializes its statuses. */
    executionsOfDevice: `SELECT ${executionColumns} FROM update_executions WHERE device_id = ${p(1)}${lock}`,
    insertExecution: `INSERT INTO update_executions (device_id, deployment_id, state, offered_at, updated_at)
      VALUES (${p(1)}, ${p(2)}, 'offered', ${p(3)}, ${p(4)})`,
    cancelExecution: `UPDATE update_executions SET state = 'cancelled', progress = NULL, detail = ${p(3)},
      updated_at = ${p(4)}, finished_at = ${p(5)}
      WHERE device_id = ${p(1)} AND deployment_id = ${p(2)} AND finished_at IS NULL`,
    updateExecution: `UPDATE update_executions SET state = ${p(3)}, progress = ${p(4)}, reason = ${p(5)},
      detail = ${p(6)}, delta = ${p(7)}, bytes = ${p(8)}, last_seq = ${p(9)}, updated_at = ${p(10)},
      finished_at = ${p(11)} WHERE device_id = ${p(1)} AND deployment_id = ${p(2)}
      RETURNING ${executionColumns}`,
    insertHistory: `INSERT INTO update_history (device_id, deployment_id, at, state, seq, reason, detail)
      VALUES (${values(p, 7)})`,
    countByState: `SELECT state, count(*) AS n FROM update_executions WHERE deployment_id = ${p(1)}
      GROUP BY state`,
    listExecutions: `SELECT ${executionColumns} FROM update_executions
      WHERE deployment_id = ${p(1)} AND device_id > ${p(2)} ORDER BY device_id LIMIT ${p(3)}`,
    listHistory: `SELECT ${historyColumns} FROM update_history WHERE device_id = ${p(1)}
      ORDER BY id DESC LIMIT ${p(2)}`,
  };
}

export type UpdateSql = ReturnType<typeof updateSql>;

export function deploymentParams<Time, Flag, Big>(
  d: NewDeployment,
  atMs: number,
  codec: UpdateCodec<Time, Flag, Big>,
): unknown[] {
  return [
    d.id,
    d.hardwareModel,
    d.version,
    d.target,
    codec.flag(d.installNow),
    codec.flag(d.force),
    // Text for both: SQLite stores it as is, PostgreSQL casts it to jsonb.
    d.installWindow === null ? null : JSON.stringify(d.installWindow),
    d.source,
    codec.time(atMs),
    d.createdBy,
    null,
  ];
}

/** Parameters for updateExecution. */
export function patchParams<Time, Flag, Big>(
  deviceId: string,
  deploymentId: string,
  patch: ExecutionPatch,
  atMs: number,
  codec: UpdateCodec<Time, Flag, Big>,
): unknown[] {
  return [
    deviceId,
    deploymentId,
    patch.state,
    patch.progress,
    patch.reason,
    patch.detail,
    patch.delta === null ? null : codec.flag(patch.delta),
    patch.bytes,
    patch.lastSeq,
    codec.time(atMs),
    patch.finished ? codec.time(atMs) : null,
  ];
}

export function deploymentFromRow<Time, Flag, Big>(
  row: DeploymentRow<Time, Flag>,
  codec: UpdateCodec<Time, Flag, Big>,
): Deployment {
  return {
    id: row.id,
    hardwareModel: row.hardware_model,
    version: row.version,
    target: row.target,
    installNow: codec.readFlag(row.install_now),
    force: codec.readFlag(row.force),
    installWindow: installWindowFromColumn(row.install_window),
    source: row.source,
    createdAt: isoTime(codec.timeMs(row.created_at)),
    createdBy: row.created_by,
    cancelledAt: row.cancelled_at === null ? null : isoTime(codec.timeMs(row.cancelled_at)),
  };
}

/** Re-validated on the way out: a hand-edited window fails here, not on every device. */
function installWindowFromColumn(value: unknown): MaintenanceWindow | null {
  if (value === null) return null;
  return maintenanceWindowSchema.parse(typeof value === 'string' ? JSON.parse(value) : value);
}

export function executionFromRow<Time, Flag, Big>(
  row: ExecutionRow<Time, Flag, Big>,
  codec: UpdateCodec<Time, Flag, Big>,
): UpdateExecution {
  return {
    deviceId: row.device_id,
    deploymentId: row.deployment_id,
    state: row.state,
    progress: row.progress,
    reason: row.reason,
    detail: row.detail,
    delta: row.delta === null ? null : codec.readFlag(row.delta),
    bytes: row.bytes === null ? null : codec.readBig(row.bytes),
    lastSeq: row.last_seq === null ? null : codec.readBig(row.last_seq),
    offeredAt: isoTime(codec.timeMs(row.offered_at)),
    updatedAt: isoTime(codec.timeMs(row.updated_at)),
    finishedAt: row.finished_at === null ? null : isoTime(codec.timeMs(row.finished_at)),
  };
}

export function historyFromRow<Time, Flag, Big>(
  row: HistoryRow<Time, Big>,
  codec: UpdateCodec<Time, Flag, Big>,
): UpdateHistoryEntry {
  return {
    id: codec.readBig(row.id),
    deviceId: row.device_id,
    deploymentId: row.deployment_id,
    at: isoTime(codec.timeMs(row.at)),
    state: row.state,
    seq: row.seq === null ? null : codec.readBig(row.seq),
    reason: row.reason,
    detail: row.detail,
  };
}

/** The highest seq of any of the device's executions (null before its first status). */
export function deviceLastSeq<Time, Flag, Big>(
  rows: ExecutionRow<Time, Flag, Big>[],
  codec: UpdateCodec<Time, Flag, Big>,
): number | null {
  let last: number | null = null;
  for (const row of rows) {
    if (row.last_seq !== null) last = Math.max(last ?? 0, codec.readBig(row.last_seq));
  }
  return last;
}
