import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GateResult, GateStatus } from '../../src/ota/rollouts/gates.ts';
import {
  initialRolloutState,
  rolloutStateSchema,
  type RolloutState,
} from '../../src/ota/rollouts/rollout-state.ts';
import { parseRolloutSpec, type RolloutSpec } from '../../src/ota/rollouts/rollout-spec.ts';
import { applyDecision, decideNext, type DecisionInput } from '../../src/ota/rollouts/stage-machine.ts';

const HOUR = 3600_000;
const spec = parseRolloutSpec({ release: { model: 'm', version: '1' } });
const gates = (...s: GateStatus[]): GateResult[] =>
  (['min-reported', 'success-rate', 'failure-rate'] as const).map((gate, i) => ({
    gate,
    value: i === 0 ? 10 : 0.5,
    threshold: i === 0 ? 1 : 0.05,
    status: s[i] ?? 'pass',
    detail: `${gate} detail`,
  }));
const input = (over: Partial<DecisionInput>): DecisionInput => ({
  spec,
  state: initialRolloutState(0),
  stageDevices: 10,
  gates: gates(),
  nowMs: HOUR,
  ...over,
});

/** Drives the machine the way the orchestrator will: decide, apply, repeat until it waits. */
function settle(
  state: RolloutState,
  over: Partial<DecisionInput>,
  rolloutSpec: RolloutSpec = spec,
): RolloutState {
  for (let i = 0; i < 10; i++) {
    const decision = decideNext(input({ spec: rolloutSpec, ...over, state }));
    if (decision.action === 'wait') return state;
    state = applyDecision(state, decision, over.nowMs ?? HOUR).state;
  }
  return state;
}

describe('decideNext', () => {
  it('waits for pending gates without a deadline', () => {
    const d = decideNext(input({ gates: gates('pending', 'pending', 'pass') }));
    assert.deepEqual(d, {
      action: 'wait',
      waitingFor: 'gates',
      untilMs: null,
      message:
        'stage 1 of 4: waiting for min-reported (min-reported detail); success-rate (success-rate detail)',
    });
  });

  it('pauses at once when a gate fails, naming the gate and its values, even during the hold', () => {
    const state = { ...initialRolloutState(0), holdStartedAtMs: 0 };
    const d = decideNext(input({ state, gates: gates('pass', 'pending', 'fail') }));
    assert.equal(d.action, 'pause');
    assert.ok(d.action === 'pause');
    assert.deepEqual(
      { ...d.reason, message: undefined },
      { kind: 'gate', gate: 'failure-rate', value: 0.5, threshold: 0.05, message: undefined },
    );
    assert.equal(d.reason.message, 'stage 1 of 4: failure-rate failed: failure-rate detail');
  });

  it('starts the hold when every gate passes, then waits until it ends, then advances', () => {
    const d1 = decideNext(input({ nowMs: 5 * HOUR }));
    assert.deepEqual(d1, {
      action: 'start-hold',
      untilMs: 29 * HOUR,
      message: 'stage 1 of 4: every gate passes; holding for 86400 s',
    });
    const held = applyDecision(initialRolloutState(0), d1, 5 * HOUR);
    assert.equal(held.state.holdStartedAtMs, 5 * HOUR);
    assert.equal(held.event?.kind, 'hold-started');
    assert.deepEqual(decideNext(input({ state: held.state, nowMs: 29 * HOUR - 1 })), {
      action: 'wait',
      waitingFor: 'hold',
      untilMs: 29 * HOUR,
      message: 'stage 1 of 4: holding',
    });
    const d3 = decideNext(input({ state: held.state, nowMs: 29 * HOUR }));
    assert.deepEqual(d3, {
      action: 'advance',
      toStage: 1,
      message: 'stage 1 of 4 done; stage 2 of 4 started',
    });
    const next = applyDecision(held.state, d3, 29 * HOUR);
    assert.deepEqual(next.state, {
      status: 'running',
      stageIndex: 1,
      stageStartedAtMs: 29 * HOUR,
      holdStartedAtMs: null,
      pauseReason: null,
    });
    assert.deepEqual(next.event, {
      atMs: 29 * HOUR,
      kind: 'stage-started',
      actor: 'system',
      stageIndex: 1,
      message: 'stage 1 of 4 done; stage 2 of 4 started',
      details: { fromStage: 0 },
    });
  });

  it('is idempotent: the same inputs give the same decision, and an applied one is not repeated', () => {
    const i = input({ gates: gates('pass', 'pass', 'fail') });
    assert.deepEqual(decideNext(i), decideNext(i));
    const paused = applyDecision(i.state, decideNext(i), HOUR).state;
    assert.equal(decideNext({ ...i, state: paused }).action, 'wait');
    // A restarted orchestrator with the persisted state reaches the same state.
    assert.deepEqual(settle(JSON.parse(JSON.stringify(paused)) as RolloutState, {}), paused);
  });

  it('skips the hold for a mandatory release but keeps the gates', () => {
    const mandatory = { ...spec, mandatory: true };
    assert.equal(decideNext(input({ spec: mandatory })).action, 'advance');
    assert.equal(decideNext(input({ spec: mandatory, gates: gates('pass', 'pending') })).action, 'wait');
    assert.equal(
      decideNext(input({ spec: mandatory, gates: gates('pass', 'pass', 'fail') })).action,
      'pause',
    );
  });

  it('skips the hold when it is 0 and passes through an empty stage at once', () => {
    const noHold = parseRolloutSpec({
      release: { model: 'm', version: '1' },
      stages: [{ percent: 5, holdS: 0 }, { percent: 100 }],
    });
    assert.equal(decideNext(input({ spec: noHold })).action, 'advance');
    assert.equal(
      decideNext(input({ stageDevices: 0, gates: gates('pending', 'pending') })).action,
      'advance',
    );
  });

  it('waits for approval after a stage that needs it, and keeps waiting', () => {
    const approving = parseRolloutSpec({
      release: { model: 'm', version: '1' },
      stages: [{ percent: 5, holdS: 0, manualApproval: true }, { percent: 100 }],
    });
    const d = decideNext(input({ spec: approving }));
    assert.equal(d.action, 'await-approval');
    const { state, event } = applyDecision(initialRolloutState(0), d, HOUR);
    assert.equal(state.status, 'waiting-approval');
    assert.equal(event?.kind, 'approval-requested');
    assert.deepEqual(decideNext(input({ spec: approving, state })), {
      action: 'wait',
      waitingFor: 'approval',
      untilMs: null,
      message: 'stage 1 of 2 done; waiting for approval',
    });
  });

  it('completes after the last stage and then does nothing', () => {
    const last = { ...initialRolloutState(0), stageIndex: 3, holdStartedAtMs: 0 };
    const d = decideNext(input({ state: last, nowMs: 30 * HOUR }));
    assert.equal(d.action, 'complete');
    const done = applyDecision(last, d, 30 * HOUR);
    assert.equal(done.state.status, 'completed');
    assert.equal(done.event?.kind, 'completed');
    assert.deepEqual(decideNext(input({ state: done.state, gates: gates('fail') })), {
      action: 'wait',
      waitingFor: 'nothing',
      untilMs: null,
      message: 'rollout completed',
    });
  });

  it('runs a good release through every stage with an accelerated clock', () => {
    let state = initialRolloutState(0);
    let nowMs = 0;
    const seen: number[] = [];
    while (state.status === 'running' && nowMs < 200 * HOUR) {
      nowMs += HOUR;
      state = settle(state, { nowMs });
      seen.push(state.stageIndex);
    }
    assert.equal(state.status, 'completed');
    assert.deepEqual([...new Set(seen)], [0, 1, 2, 3]);
    assert.ok(nowMs >= 4 * 24 * HOUR, 'every stage held 24 h');
  });

  it('pauses again after a resume while the gate still fails, and runs on once it passes', () => {
    const failing = gates('pass', 'pass', 'fail');
    const paused = settle(initialRolloutState(0), { gates: failing });
    assert.equal(paused.status, 'paused');
    assert.equal(paused.pauseReason?.kind === 'gate' && paused.pauseReason.gate, 'failure-rate');
    assert.ok(rolloutStateSchema.safeParse(paused).success);
    const resumed: RolloutState = { ...paused, status: 'running', pauseReason: null };
    assert.equal(settle(resumed, { gates: failing }).status, 'paused');
    assert.equal(settle(resumed, { gates: gates('pass', 'pending') }).status, 'running');
  });
});
