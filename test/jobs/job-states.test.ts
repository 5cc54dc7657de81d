import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  abortThresholdReached,
  allExecutionsFinished,
  executionStates,
  jobStates,
  nextExecution,
  nextJobState,
  type ExecutionEvent,
  type ExecutionState,
  type JobEvent,
  type JobState,
} from '../../src/jobs/job-states.ts';

const report = (state: 'in-progress' | 'succeeded' | 'failed' | 'rejected', retry = false, attempt = 1) =>
  ({ kind: 'report', attempt, state, retry }) as const;

/** Every (state, event) pair and where it leads: undefined = refused. */
const executionTable: Array<[ExecutionState, ExecutionEvent, ExecutionState | undefined]> = [
  ['queued', { kind: 'send' }, 'sent'],
  ['queued', { kind: 'unsupported' }, 'failed'],
  ['queued', { kind: 'expire' }, 'timed-out'],
  ['queued', { kind: 'cancel' }, 'cancelled'],
  ['queued', { kind: 'timeout', retry: true }, undefined],
  ['queued', report('succeeded'), undefined],
  ['sent', { kind: 'send' }, undefined],
  ['sent', report('in-progress'), 'in-progress'],
  ['sent', report('succeeded'), 'succeeded'],
  ['sent', report('rejected', true), 'failed'],
  ['sent', report('failed', true), 'queued'],
  ['sent', { kind: 'timeout', retry: true }, 'queued'],
  ['sent', { kind: 'timeout', retry: false }, 'timed-out'],
  ['sent', { kind: 'expire' }, 'timed-out'],
  ['sent', { kind: 'cancel' }, 'cancelled'],
  ['sent', { kind: 'unsupported' }, undefined],
  ['in-progress', report('in-progress'), 'in-progress'],
  ['in-progress', report('succeeded'), 'succeeded'],
  ['in-progress', report('failed'), 'failed'],
  ['in-progress', report('failed', true), 'queued'],
  ['in-progress', { kind: 'timeout', retry: false }, 'timed-out'],
  ['in-progress', { kind: 'expire' }, undefined],
  ['in-progress', { kind: 'cancel' }, undefined],
  ...(['succeeded', 'failed', 'timed-out', 'cancelled'] as const).flatMap((state) =>
    (
      [
        { kind: 'send' },
        report('succeeded'),
        { kind: 'timeout', retry: true },
        { kind: 'expire' },
        { kind: 'cancel' },
        { kind: 'unsupported' },
      ] as ExecutionEvent[]
    ).map((event): [ExecutionState, ExecutionEvent, undefined] => [state, event, undefined]),
  ),
];

const jobTable: Array<[JobState, JobEvent, JobState | undefined]> = [
  ['scheduled', 'start', 'in-progress'],
  ['scheduled', 'cancel', 'cancelled'],
  ['scheduled', 'abort', undefined],
  ['scheduled', 'complete', undefined],
  ['in-progress', 'start', undefined],
  ['in-progress', 'complete', 'completed'],
  ['in-progress', 'abort', 'aborted'],
  ['in-progress', 'cancel', 'cancelled'],
  ...(['completed', 'aborted', 'cancelled'] as const).flatMap((state) =>
    (['start', 'complete', 'abort', 'cancel'] as const).map((event): [JobState, JobEvent, undefined] => [
      state,
      event,
      undefined,
    ]),
  ),
];

describe('job state machine', () => {
  it('covers every job state and event', () => {
    assert.equal(jobTable.length, jobStates.length * 4);
    for (const [state, event, expected] of jobTable)
      assert.equal(nextJobState(state, event), expected, `${state} + ${event}`);
  });

  it('moves executions as the table says', () => {
    assert.deepEqual(new Set(executionTable.map(([state]) => state)), new Set(executionStates));
    for (const [state, event, expected] of executionTable) {
      const attempt = state === 'queued' ? 0 : 1;
      const next = nextExecution({ state, attempt }, event);
      assert.equal(next.ok ? next.to.state : undefined, expected, `${state} + ${JSON.stringify(event)}`);
    }
  });

  it('counts attempts on send and keeps them on every other move', () => {
    assert.deepEqual(nextExecution({ state: 'queued', attempt: 2 }, { kind: 'send' }), {
      ok: true,
      to: { state: 'sent', attempt: 3 },
    });
    assert.deepEqual(nextExecution({ state: 'sent', attempt: 3 }, { kind: 'timeout', retry: true }), {
      ok: true,
      to: { state: 'queued', attempt: 3 },
    });
  });

  it('ignores reports about another attempt and never moves a final execution', () => {
    assert.deepEqual(nextExecution({ state: 'sent', attempt: 2 }, report('succeeded', false, 1)), {
      ok: false,
      reason: 'stale-attempt',
    });
    assert.deepEqual(nextExecution({ state: 'succeeded', attempt: 1 }, report('failed')), {
      ok: false,
      reason: 'final',
    });
  });

  it('aborts only past the percentage once enough executions finished', () => {
    const rule = { abortAfterFailedPercent: 50, minFinished: 4 };
    assert.equal(abortThresholdReached({ failed: 3 }, rule), false, 'too few finished');
    assert.equal(abortThresholdReached({ failed: 2, succeeded: 2 }, rule), false, 'exactly 50% is not more');
    assert.equal(abortThresholdReached({ failed: 2, 'timed-out': 1, succeeded: 1 }, rule), true);
    assert.equal(abortThresholdReached({ failed: 9 }, { minFinished: 1 }), false, 'no threshold set');
  });

  it('knows when nothing waits or runs any more', () => {
    assert.equal(allExecutionsFinished({ succeeded: 3, cancelled: 1 }), true);
    assert.equal(allExecutionsFinished({ succeeded: 3, sent: 1 }), false);
  });
});
