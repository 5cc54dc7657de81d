/**
 * The rollout's state machine: from the persisted state, the current stage's gate results and
 * the time, the one thing to do next. Everything it decides follows from its inputs, so applying
 * the same inputs twice gives the same decision and a restarted orchestrator continues exactly
 * where the last one stopped. Rules and reasoning: docs/rollouts.md.
 */
import type { GateResult } from './gates.ts';
import type { PauseReason, RolloutState } from './rollout-state.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import { SYSTEM_ACTOR, type TimelineEvent } from './timeline.ts';

export interface DecisionInput {
  spec: Pick<RolloutSpec, 'stages' | 'mandatory'>;
  state: RolloutState;
  /** Devices assigned to the current stage (an empty stage has nothing to observe). */
  stageDevices: number;
  /** The gates of the current stage (`state.stageIndex`), evaluated at `nowMs`. */
  gates: readonly GateResult[];
  nowMs: number;
}

/** What a wait is for: which input has to change before the decision does. */
export type WaitingFor = 'gates' | 'hold' | 'approval' | 'resume' | 'nothing';

export type RolloutDecision =
  | { action: 'advance'; toStage: number; message: string }
  | { action: 'complete'; message: string }
  | { action: 'pause'; reason: Extract<PauseReason, { kind: 'gate' }> }
  | { action: 'start-hold'; untilMs: number; message: string }
  | { action: 'await-approval'; message: string }
  | { action: 'wait'; waitingFor: WaitingFor; untilMs: number | null; message: string };

const stageName = (index: number, count: number): string => `stage ${index + 1} of ${count}`;

export function decideNext(input: DecisionInput): RolloutDecision {
  const { spec, state } = input;
  const stage = stageName(state.stageIndex, spec.stages.length);
  switch (state.status) {
    case 'completed':
    case 'cancelled':
      return { action: 'wait', waitingFor: 'nothing', untilMs: null, message: `rollout ${state.status}` };
    case 'paused':
      return {
        action: 'wait',
        waitingFor: 'resume',
        untilMs: null,
        message: `paused: ${state.pauseReason?.message ?? ''}`,
      };
    case 'waiting-approval':
      return {
        action: 'wait',
        waitingFor: 'approval',
        untilMs: null,
        message: `${stage} done; waiting for approval`,
      };
    case 'running':
      break;
  }
  // A failing gate pauses at once, hold or not, mandatory or not: stop the damage first.
  const failing = input.gates.filter((g) => g.status === 'fail');
  const [first] = failing;
  if (first !== undefined) {
    const message = `${stage}: ${failing.map((g) => `${g.gate} failed: ${g.detail}`).join('; ')}`;
    return {
      action: 'pause',
      reason: { kind: 'gate', gate: first.gate, value: first.value, threshold: first.threshold, message },
    };
  }
  if (input.stageDevices > 0) {
    const pending = input.gates.filter((g) => g.status === 'pending');
    if (pending.length > 0) {
      const message = `${stage}: waiting for ${pending.map((g) => `${g.gate} (${g.detail})`).join('; ')}`;
      return { action: 'wait', waitingFor: 'gates', untilMs: null, message };
    }
    const hold = holdDecision(input, stage);
    if (hold !== undefined) return hold;
  }
  return leaveStage(input, stage);
}

/** Every gate passes: start or continue the hold, unless the release is mandatory. */
function holdDecision(input: DecisionInput, stage: string): RolloutDecision | undefined {
  const { spec, state, nowMs } = input;
  const holdS = spec.stages[state.stageIndex]?.holdS ?? 0;
  if (spec.mandatory || holdS === 0) return undefined;
  if (state.holdStartedAtMs === null) {
    const untilMs = nowMs + holdS * 1000;
    return { action: 'start-hold', untilMs, message: `${stage}: every gate passes; holding for ${holdS} s` };
  }
  const untilMs = state.holdStartedAtMs + holdS * 1000;
  if (nowMs < untilMs) return { action: 'wait', waitingFor: 'hold', untilMs, message: `${stage}: holding` };
  return undefined;
}

function leaveStage(input: DecisionInput, stage: string): RolloutDecision {
  const { spec, state } = input;
  const next = state.stageIndex + 1;
  if (next >= spec.stages.length) return { action: 'complete', message: `${stage} done; rollout completed` };
  if (spec.stages[state.stageIndex]?.manualApproval === true)
    return {
      action: 'await-approval',
      message: `${stage} done; an operator must approve ${stageName(next, spec.stages.length)}`,
    };
  return {
    action: 'advance',
    toStage: next,
    message: `${stage} done; ${stageName(next, spec.stages.length)} started`,
  };
}

/** The new state and the timeline event a decision produces (none for a wait). */
export function applyDecision(
  state: RolloutState,
  decision: RolloutDecision,
  nowMs: number,
): { state: RolloutState; event: TimelineEvent | null } {
  const event = (
    kind: TimelineEvent['kind'],
    stageIndex: number,
    message: string,
    details = {},
  ): TimelineEvent => ({
    atMs: nowMs,
    kind,
    actor: SYSTEM_ACTOR,
    stageIndex,
    message,
    details,
  });
  switch (decision.action) {
    case 'wait':
      return { state, event: null };
    case 'pause': {
      const { reason } = decision;
      const details = { gate: reason.gate, value: reason.value, threshold: reason.threshold };
      return {
        state: { ...state, status: 'paused', pauseReason: reason },
        event: event('paused', state.stageIndex, reason.message, details),
      };
    }
    case 'start-hold':
      return {
        state: { ...state, holdStartedAtMs: nowMs },
        event: event('hold-started', state.stageIndex, decision.message, { untilMs: decision.untilMs }),
      };
    case 'await-approval':
      return {
        state: { ...state, status: 'waiting-approval' },
        event: event('approval-requested', state.stageIndex, decision.message),
      };
    case 'advance':
      return {
        state: {
          status: 'running',
          stageIndex: decision.toStage,
          stageStartedAtMs: nowMs,
          holdStartedAtMs: null,
          pauseReason: null,
        },
        event: event('stage-started', decision.toStage, decision.message, { fromStage: state.stageIndex }),
      };
    case 'complete':
      return {
        state: { ...state, status: 'completed', pauseReason: null },
        event: event('completed', state.stageIndex, decision.message),
      };
  }
}
