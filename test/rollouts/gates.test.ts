import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGates, type GateResult } from '../../src/ota/rollouts/gates.ts';
import { parseRolloutSpec } from '../../src/ota/rollouts/rollout-spec.ts';
import { summarizeStage, type StageExecutions } from '../../src/ota/rollouts/stage-summary.ts';

const gates = parseRolloutSpec({ release: { model: 'm', version: '1' } }).gates; // 1, 0.95, 0.05, 2 h
const NOW = 10 * 3600_000;
const MIN = 60_000;

function evaluate(executions: Partial<StageExecutions>, g = gates): GateResult[] {
  const full: StageExecutions = { notStarted: 0, finished: {}, unfinished: [], ...executions };
  return evaluateGates(summarizeStage(full, NOW, g.stuckTimeoutS), g);
}
const statuses = (results: GateResult[]): string[] => results.map((r) => `${r.gate}=${r.status}`);
const recently = (state: StageExecutions['unfinished'][number]['state'], n: number) =>
  Array.from({ length: n }, () => ({ state, sinceMs: NOW - 5 * MIN }));

describe('summarizeStage', () => {
  it('counts devices per state, including offered and not started, and finds stuck devices', () => {
    const summary = summarizeStage(
      {
        notStarted: 2,
        finished: { success: 3, failed: 1, 'rolled-back': 1, cancelled: 4 },
        unfinished: [
          { state: 'offered', sinceMs: 0 }, // offline for hours: waiting, not stuck
          { state: 'downloaded', sinceMs: 0 }, // install deferred: not stuck
          { state: 'rebooting', sinceMs: NOW - 2 * 3600_000 }, // exactly the timeout: stuck
          { state: 'verifying', sinceMs: NOW - 2 * 3600_000 + 1 },
        ],
      },
      NOW,
      7200,
    );
    assert.deepEqual(summary.byState, {
      success: 3,
      failed: 1,
      'rolled-back': 1,
      cancelled: 4,
      offered: 1,
      downloaded: 1,
      rebooting: 1,
      verifying: 1,
    });
    assert.equal(summary.eligible, 2 + 3 + 2 + 4);
    assert.equal(summary.stuck, 1);
    assert.equal(summary.reported, 3 + 2 + 1);
    assert.equal(summary.cancelled, 4);
  });
});

describe('evaluateGates', () => {
  it('is pending while devices are still updating (no device booted the image yet)', () => {
    const results = evaluate({ unfinished: recently('installing', 10) });
    assert.deepEqual(statuses(results), [
      'min-reported=pending',
      'success-rate=pending',
      'failure-rate=pass',
    ]);
  });

  it('counts only success as updated: one early success does not pass the stage', () => {
    const results = evaluate({ finished: { success: 1 }, unfinished: recently('verifying', 9) });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=pending', 'failure-rate=pass']);
    assert.equal(results[1]!.value, 0.1);
  });

  it('passes when enough of the stage succeeded', () => {
    const results = evaluate({ finished: { success: 19, failed: 1 } });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=pass', 'failure-rate=pass']);
    assert.deepEqual(results[1], {
      gate: 'success-rate',
      value: 0.95,
      threshold: 0.95,
      status: 'pass',
      detail: '19 of 20 devices updated (95.0 %, at least 95.0 % required)',
    });
  });

  it('fails the failure rate as soon as the stage budget is spent, even with devices still updating', () => {
    const results = evaluate({
      finished: { success: 2, 'rolled-back': 2 },
      unfinished: recently('downloading', 16),
    });
    const failure = results[2]!;
    assert.equal(failure.status, 'fail');
    assert.equal(failure.value, 0.1);
    assert.match(
      failure.detail,
      /2 failed or rolled back and 0 stuck of 20 devices \(10\.0 %, at most 5\.0 % allowed\)/,
    );
    assert.equal(results[1]!.status, 'fail'); // 18 of 20 at best: 0.95 out of reach
  });

  it('does not fail on one early failure in a large stage', () => {
    const results = evaluate({
      finished: { failed: 1, success: 2 },
      unfinished: recently('downloading', 997),
    });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=pending', 'failure-rate=pass']);
  });

  it('counts stuck devices as failures', () => {
    const stuck = [{ state: 'rebooting' as const, sinceMs: NOW - 3 * 3600_000 }];
    const results = evaluate({ finished: { success: 9 }, unfinished: stuck });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=fail', 'failure-rate=fail']);
    assert.match(results[2]!.detail, /1 stuck of 10/);
  });

  it('does not count cancelled executions either way', () => {
    const results = evaluate({ finished: { success: 10, cancelled: 5 } });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=pass', 'failure-rate=pass']);
    assert.equal(results[1]!.value, 1);
  });

  it('caps min-reported at the stage size and waits for it otherwise', () => {
    const g = { ...gates, minReported: 5, minSuccessRate: 0 };
    assert.deepEqual(evaluate({ finished: { success: 2 } }, g)[0]!.threshold, 2);
    assert.deepEqual(
      statuses(evaluate({ finished: { success: 4 }, unfinished: recently('offered', 6) }, g)),
      ['min-reported=pending', 'success-rate=pass', 'failure-rate=pass'],
    );
  });

  it('passes an empty stage with null values', () => {
    const results = evaluate({ finished: { cancelled: 3 } });
    assert.deepEqual(statuses(results), ['min-reported=pass', 'success-rate=pass', 'failure-rate=pass']);
    assert.ok(results.every((r) => r.value === null && r.detail === 'no device in this stage'));
  });

  it('fails on any failure with maxFailureRate 0', () => {
    const results = evaluate({ finished: { success: 999, failed: 1 } }, { ...gates, maxFailureRate: 0 });
    assert.equal(results[2]!.status, 'fail');
  });
});
