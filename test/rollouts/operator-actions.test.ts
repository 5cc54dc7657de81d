import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../../src/infra/errors.ts';
import { applyOperatorAction } from '../../src/ota/rollouts/operator-actions.ts';
import {
  initialRolloutState,
  rolloutStateSchema,
  type RolloutState,
} from '../../src/ota/rollouts/rollout-state.ts';
import { createdEvent, timelineEventSchema } from '../../src/ota/rollouts/timeline.ts';

const running = initialRolloutState(0);
const paused: RolloutState = {
  ...running,
  status: 'paused',
  pauseReason: { kind: 'operator', actor: 'ann', message: 'x' },
};
const waiting: RolloutState = { ...running, status: 'waiting-approval', holdStartedAtMs: 10 };

describe('applyOperatorAction', () => {
  it('pauses with the operator as the reason and an audited event', () => {
    const { state, event } = applyOperatorAction(
      running,
      { action: 'pause', actor: 'ann', note: 'field reports' },
      500,
    );
    assert.equal(state.status, 'paused');
    assert.deepEqual(state.pauseReason, { kind: 'operator', actor: 'ann', message: 'field reports' });
    assert.deepEqual(event, {
      atMs: 500,
      kind: 'paused',
      actor: 'ann',
      stageIndex: 0,
      message: 'paused by ann: field reports',
      details: { note: 'field reports', previousStatus: 'running' },
    });
    assert.ok(rolloutStateSchema.safeParse(state).success);
    assert.ok(timelineEventSchema.safeParse(event).success);
  });

  it('resumes a paused rollout into running, keeping its stage and hold', () => {
    const held = { ...paused, holdStartedAtMs: 42 };
    const { state, event } = applyOperatorAction(held, { action: 'resume', actor: 'bob' }, 900);
    assert.deepEqual(state, { ...held, status: 'running', pauseReason: null });
    assert.equal(event.kind, 'resumed');
  });

  it('approves into the next stage', () => {
    const { state, event } = applyOperatorAction(waiting, { action: 'approve', actor: 'cy' }, 700);
    assert.deepEqual(state, {
      status: 'running',
      stageIndex: 1,
      stageStartedAtMs: 700,
      holdStartedAtMs: null,
      pauseReason: null,
    });
    assert.equal(event.message, 'stage 2 approved by cy');
    assert.equal(event.stageIndex, 1);
  });

  it('cancels from any unfinished status', () => {
    for (const from of [running, paused, waiting]) {
      const { state, event } = applyOperatorAction(from, { action: 'cancel', actor: 'dee' }, 1);
      assert.equal(state.status, 'cancelled');
      assert.equal(state.pauseReason, null);
      assert.equal(event.kind, 'cancelled');
    }
  });

  it('refuses invalid transitions with a ConflictError that says why', () => {
    const completed: RolloutState = { ...running, status: 'completed' };
    const cases: Array<[RolloutState, 'pause' | 'resume' | 'approve' | 'cancel', RegExp]> = [
      [running, 'approve', /cannot approve a rollout that is running \(only when waiting-approval\)/],
      [running, 'resume', /cannot resume a rollout that is running/],
      [paused, 'pause', /cannot pause a rollout that is paused/],
      [paused, 'approve', /cannot approve/],
      [completed, 'cancel', /cannot cancel a rollout that is completed/],
      [{ ...running, status: 'cancelled' }, 'resume', /cancelled/],
    ];
    for (const [state, action, message] of cases) {
      assert.throws(
        () => applyOperatorAction(state, { action, actor: 'eve' }, 1),
        (err: unknown) =>
          err instanceof ConflictError && message.test(err.message) && err.details?.action === action,
      );
    }
  });

  it('starts every timeline with a created event', () => {
    const event = createdEvent('ann', 5, { stages: 4 });
    assert.deepEqual(event, {
      atMs: 5,
      kind: 'created',
      actor: 'ann',
      stageIndex: 0,
      message: 'rollout created; stage 1 started',
      details: { stages: 4 },
    });
    assert.ok(timelineEventSchema.safeParse(event).success);
  });
});
