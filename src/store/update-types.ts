/**
 * The update store: deployments (who should install which release) and, per device, the
 * execution of its assignment and an append-only history of its status transitions.
 * Implemented in sqlite/ and postgres/ and checked by one contract suite
 * (test/store/update-store.contract.ts). A device has at most one active (unfinished) execution.
 */
import { updateStates, type UpdateFailureReason, type UpdateStatus } from '../contracts/update-messages.ts';
import type { MaintenanceWindow } from '../contracts/maintenance-window.ts';
import type { Page, PageRequest } from './types.ts';

/** `offered` until the device reports; `cancelled` when the offer was withdrawn or replaced. */
export const executionStates = ['offered', ...updateStates, 'cancelled'] as const;
export type ExecutionState = (typeof executionStates)[number];

export interface NewDeployment {
  /** Ordered by creation: the store lists deployments newest first by id. */
  id: string;
  hardwareModel: string;
  version: string;
  /** The TUF target name devices install. */
  target: string;
  installNow: boolean;
  force: boolean;
  /** Devices install only while this window is open (they download at once); null: any time. */
  installWindow: MaintenanceWindow | null;
  /** `manual`, or `rollout:<id>` for deployments a rollout creates. */
  source: string;
  createdBy: string;
  /** The devices to offer it to (at least one). */
  deviceIds: string[];
}

export interface Deployment extends Omit<NewDeployment, 'deviceIds'> {
  createdAt: string;
  cancelledAt: string | null;
}

export interface UpdateExecution {
  deviceId: string;
  deploymentId: string;
  state: ExecutionState;
  /** 0-100 within the state, as last reported. */
  progress: number | null;
  reason: UpdateFailureReason | null;
  detail: string | null;
  delta: boolean | null;
  /** Bytes downloaded so far, as last reported. */
  bytes: number | null;
  /** The seq of the last status applied. */
  lastSeq: number | null;
  offeredAt: string;
  updatedAt: string;
  /** Set once the execution reached a final state or was cancelled. */
  finishedAt: string | null;
}

export interface UpdateHistoryEntry {
  id: number;
  deviceId: string;
  deploymentId: string;
  at: string;
  state: ExecutionState;
  /** The status's seq; null for server-side transitions (offered, cancelled). */
  seq: number | null;
  reason: UpdateFailureReason | null;
  detail: string | null;
}

/** A device's active execution of some deployment. */
export interface ActiveAssignment {
  deviceId: string;
  deploymentId: string;
}

export type AppliedStatus =
  | { outcome: 'applied'; execution: UpdateExecution; deployment: Deployment; finished: boolean }
  | { outcome: 'duplicate' | 'ignored' | 'not_assigned' | 'cancelled' | 'version_mismatch' };

export interface UpdateStore {
  /**
   * Atomically creates the deployment and an `offered` execution per device. Devices with an
   * active execution of another deployment: ConflictError (details.active lists them) unless
   * `replace`, which cancels those executions (returned as `replaced`).
   */
  createDeployment(
    deployment: NewDeployment,
    options: { replace: boolean },
    atMs: number,
  ): Promise<{ deployment: Deployment; replaced: ActiveAssignment[] }>;
  getDeployment(id: string): Promise<Deployment | undefined>;
  /** Newest first (ids descending). */
  listDeployments(page: PageRequest): Promise<Page<Deployment>>;
  /**
   * Marks the deployment cancelled and cancels its active executions; returns the devices whose
   * offer was withdrawn. Idempotent. NotFoundError when unknown.
   */
  cancelDeployment(id: string, atMs: number): Promise<{ deployment: Deployment; withdrawn: string[] }>;
  /** Every device's active assignment, ordered by device id (restoring retained offers). */
  listActiveAssignments(page: PageRequest): Promise<Page<ActiveAssignment>>;
  /** The device's active execution and its deployment, if any. */
  activeExecution(
    deviceId: string,
  ): Promise<{ execution: UpdateExecution; deployment: Deployment } | undefined>;
  /** The active executions of many devices at once (device id → execution); devices with none are absent. */
  activeExecutions(
    deviceIds: readonly string[],
  ): Promise<Map<string, { execution: UpdateExecution; deployment: Deployment }>>;
  /** Every execution of the given deployments, in no particular order. */
  executionsOfDeployments(deploymentIds: readonly string[]): Promise<UpdateExecution[]>;
  /**
   * Applies a device's status atomically (update-rules.ts decides): seq must exceed every seq
   * the device sent before; final states are sticky; every state change is recorded in history.
   */
  applyStatus(deviceId: string, status: UpdateStatus, atMs: number): Promise<AppliedStatus>;
  /** How many of the deployment's executions are in each state (states with none are absent). */
  countExecutions(deploymentId: string): Promise<Partial<Record<ExecutionState, number>>>;
  /** The deployment's executions, ordered by device id. */
  listExecutions(deploymentId: string, page: PageRequest): Promise<Page<UpdateExecution>>;
  /** A device's status transitions across deployments, newest first. */
  listHistory(deviceId: string, options: { limit: number }): Promise<UpdateHistoryEntry[]>;
}
