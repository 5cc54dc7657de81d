/**
 * What an operator may do to a rollout, as transitions of its persisted state. A transition
 * that makes no sense in the current status is a ConflictError (HTTP 409) that says why.
 */
import { ConflictError } from '../../infra/errors.ts';
import type { RolloutState, RolloutStatus } from './rollout-state.ts';
import type { TimelineEvent } from './timeline.ts';

export const operatorActions = ['pause', 'resume', 'approve', 'cancel'] as const;
export type OperatorAction = (typeof operatorActions)[number];

/** From which statuses each action is allowed. */
const allowedFrom: Record<OperatorAction, readonly RolloutStatus[]> = {
  pause: ['running', 'waiting-approval'],
  resume: ['paused'],
  approve: ['waiting-approval'],
  cancel: ['running', 'waiting-approval', 'paused'],
};

export interface OperatorRequest {
  action: OperatorAction;
  actor: string;
  /** Optional note, kept in the timeline (e.g. why it was paused). */
  note?: string;
}

function refuse(state: RolloutState, action: OperatorAction): never {
  const expected = allowedFrom[action].join(' or ');
  throw new ConflictError(`cannot ${action} a rollout that is ${state.status} (only when ${expected})`, {
    status: state.status,
    action,
  });
}

/**
 * Applies the action: pause stops new starts (devices updating finish); resume runs again and
 * lets the state machine re-evaluate the gates (a gate still failing pauses again); approve
 * starts the next stage; cancel is final (the caller withdraws the offers not yet installed).
 */
export function applyOperatorAction(
  state: RolloutState,
  request: OperatorRequest,
  nowMs: number,
): { state: RolloutState; event: TimelineEvent } {
  const { action, actor, note } = request;
  if (!allowedFrom[action].includes(state.status)) refuse(state, action);
  const details = note === undefined ? {} : { note };
  const event = (kind: TimelineEvent['kind'], stageIndex: number, message: string): TimelineEvent => ({
    atMs: nowMs,
    kind,
    actor,
    stageIndex,
    message: note === undefined ? message : `${message}: ${note}`,
    details: { ...details, previousStatus: state.status },
  });
  switch (action) {
    case 'pause': {
      const message = note ?? 'paused by an operator';
      return {
        state: { ...state, status: 'paused', pauseReason: { kind: 'operator', actor, message } },
        event: event('paused', state.stageIndex, `paused by ${actor}`),
      };
    }
    case 'resume':
      return {
        state: { ...state, status: 'running', pauseReason: null },
        event: event('resumed', state.stageIndex, `resumed by ${actor}`),
      };
    case 'approve': {
      const next = state.stageIndex + 1;
      return {
        state: {
          status: 'running',
          stageIndex: next,
          stageStartedAtMs: nowMs,
          holdStartedAtMs: null,
          pauseReason: null,
        },
        event: event('approved', next, `stage ${next + 1} approved by ${actor}`),
      };
    }
    case 'cancel':
      return {
        state: { ...state, status: 'cancelled', pauseReason: null },
        event: event('cancelled', state.stageIndex, `cancelled by ${actor}`),
      };
  }
}
