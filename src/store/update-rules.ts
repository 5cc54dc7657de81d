/**
 * Pure rules of the update store, shared by both dialects: how a device's status changes its
 * execution, and the conflict error for devices that already have an active update.
 */
import { finalUpdateStates, type UpdateStatus } from '../contracts/update-messages.ts';
import { ConflictError, ValidationError } from '../infra/errors.ts';
import type {
  ActiveAssignment,
  AppliedStatus,
  ExecutionState,
  NewDeployment,
  UpdateExecution,
} from './update-types.ts';

/** The columns a status writes to its execution. */
export interface ExecutionPatch {
  state: ExecutionState;
  progress: number | null;
  reason: string | null;
  detail: string | null;
  delta: boolean | null;
  bytes: number | null;
  lastSeq: number;
  /** The execution ends with this status (success, failed, rolled-back). */
  finished: boolean;
  /** The state changed, so the transition goes into the history. */
  transition: boolean;
}

export type StatusDecision =
  | { kind: 'apply'; patch: ExecutionPatch }
  | { kind: 'drop'; outcome: Exclude<AppliedStatus['outcome'], 'applied'> };

export interface StatusContext {
  /** The device's execution of the status's deployment, if it has one. */
  execution: UpdateExecution | undefined;
  /** That deployment's version. */
  version: string | undefined;
  /** The highest seq the device has sent in any status (null before its first). */
  deviceLastSeq: number | null;
}

/**
 * Decides what a status does. Order matters: an unknown assignment is refused whatever its seq;
 * a replayed or reordered status (seq not above the device's last) is a harmless duplicate; an
 * ended execution never changes again (final states are sticky).
 */
export function decideStatus(status: UpdateStatus, context: StatusContext): StatusDecision {
  const { execution } = context;
  if (execution === undefined) return { kind: 'drop', outcome: 'not_assigned' };
  if (context.deviceLastSeq !== null && status.seq <= context.deviceLastSeq)
    return { kind: 'drop', outcome: 'duplicate' };
  if (execution.state === 'cancelled') return { kind: 'drop', outcome: 'cancelled' };
  if (execution.finishedAt !== null) return { kind: 'drop', outcome: 'ignored' };
  if (status.version !== context.version) return { kind: 'drop', outcome: 'version_mismatch' };
  const transition = status.state !== execution.state;
  return {
    kind: 'apply',
    patch: {
      state: status.state,
      progress: status.progress ?? null,
      reason: status.reason ?? null,
      detail: status.detail ?? (transition ? null : execution.detail),
      delta: status.delta ?? execution.delta,
      bytes: status.bytes ?? execution.bytes,
      lastSeq: status.seq,
      finished: finalUpdateStates.includes(status.state),
      transition,
    },
  };
}

/** Names each device and the deployment it is busy with (at most 20 in the message). */
export function activeUpdateConflict(active: ActiveAssignment[]): ConflictError {
  if (active.length === 0)
    return new ConflictError('another deployment took one of these devices at the same time; retry', {
      active,
    });
  const named = active
    .slice(0, 20)
    .map((a) => `${a.deviceId} (deployment ${a.deploymentId})`)
    .join(', ');
  const more = active.length > 20 ? ` and ${active.length - 20} more` : '';
  return new ConflictError(
    `${active.length} device(s) already have an active update: ${named}${more}; cancel it or deploy with replace`,
    { active },
  );
}

/** The store refuses a deployment without devices: an empty one could never finish. */
export function validateNewDeployment(deployment: NewDeployment): void {
  if (deployment.deviceIds.length === 0)
    throw new ValidationError('a deployment needs at least one device', { field: 'deviceIds' });
  if (new Set(deployment.deviceIds).size !== deployment.deviceIds.length)
    throw new ValidationError('device ids must be unique', { field: 'deviceIds' });
}
