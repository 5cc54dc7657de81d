/** The pure decision of one rule evaluation: durations, repeat counts, escalation, clearing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRule, type Observation, type SubjectState } from '../../src/alerts/rules/rule-evaluator.ts';

const t0 = Date.UTC(2026, 10, 1);
const minute = 60_000;
const d1 = { kind: 'device' as const, id: 'd1' };
const match = (severity: Observation['severity'], value = 8): Observation => ({
  subject: d1,
  severity,
  value,
});

/** Runs decisions in sequence, carrying the states as the store would. */
function run(timing: { forMs: number; repeat: number }, steps: Array<[number, Observation[]]>) {
  let states: SubjectState[] = [];
  return steps.map(([atMs, matches]) => {
    const decision = decideRule(timing, states, matches, atMs);
    const removed = new Set(decision.remove.map((s) => s.id));
    const upserted = new Map(decision.upsert.map((s) => [s.subject.id, s]));
    states = [
      ...states.filter((s) => !removed.has(s.subject.id) && !upserted.has(s.subject.id)),
      ...upserted.values(),
    ];
    return { decision, states };
  });
}

describe('decideRule', () => {
  it('raises only after the condition held for the whole duration', () => {
    const [first, early, due, steady] = run({ forMs: 10 * minute, repeat: 1 }, [
      [t0, [match('warning')]],
      [t0 + 5 * minute, [match('warning')]],
      [t0 + 10 * minute, [match('warning')]],
      [t0 + 11 * minute, [match('warning')]],
    ]);
    assert.equal(first!.decision.raise.length, 0);
    assert.deepEqual(first!.states, [{ subject: d1, sinceMs: t0, streak: 1, firing: null }]);
    assert.equal(early!.decision.raise.length, 0);
    assert.deepEqual(early!.decision.upsert, [], 'nothing changes while pending with repeat 1');
    assert.deepEqual(due!.decision.raise, [{ ...match('warning'), sinceMs: t0, escalation: false }]);
    assert.equal(due!.states[0]?.firing, 'warning');
    assert.deepEqual(steady!.decision, { raise: [], clear: [], upsert: [], remove: [] });
  });

  it('starts the duration over when the condition breaks while pending', () => {
    const steps = run({ forMs: 10 * minute, repeat: 1 }, [
      [t0, [match('warning')]],
      [t0 + 5 * minute, []],
      [t0 + 10 * minute, [match('warning')]],
      [t0 + 15 * minute, [match('warning')]],
      [t0 + 20 * minute, [match('warning')]],
    ]);
    assert.deepEqual(steps[1]!.decision.clear, [], 'a pending subject has no alert to clear');
    assert.deepEqual(steps[1]!.decision.remove, [d1]);
    assert.equal(steps[3]!.decision.raise.length, 0);
    assert.equal(steps[4]!.decision.raise.length, 1);
  });

  it('raises on the n-th consecutive evaluation with a repeat count', () => {
    const steps = run({ forMs: 0, repeat: 3 }, [
      [t0, [match('warning')]],
      [t0 + 1, [match('warning')]],
      [t0 + 2, [match('warning')]],
      [t0 + 3, [match('warning')]],
    ]);
    assert.deepEqual(
      steps.map((s) => s.decision.raise.length),
      [0, 0, 1, 0],
    );
    assert.deepEqual(
      steps.map((s) => s.states[0]?.streak),
      [1, 2, 3, 3],
    );
  });

  it('escalates and de-escalates one alert, then clears it', () => {
    const steps = run({ forMs: 0, repeat: 1 }, [
      [t0, [match('warning')]],
      [t0 + minute, [match('critical', 4)]],
      [t0 + 2 * minute, [match('warning')]],
      [t0 + 3 * minute, []],
    ]);
    assert.deepEqual(
      steps.map((s) => s.decision.raise.map((r) => `${r.severity}${r.escalation ? '+' : ''}`)),
      [['warning'], ['critical+'], ['warning+'], []],
    );
    assert.deepEqual(steps[3]!.decision.clear, [d1]);
    assert.deepEqual(steps[3]!.states, []);
  });

  it('keeps pending state passed back in (a restart) and counts from its start', () => {
    const before: SubjectState[] = [{ subject: d1, sinceMs: t0, streak: 1, firing: null }];
    const decision = decideRule(
      { forMs: 10 * minute, repeat: 1 },
      before,
      [match('warning')],
      t0 + 10 * minute,
    );
    assert.equal(decision.raise.length, 1);
    assert.equal(decision.raise[0]?.sinceMs, t0);
  });

  it('handles many subjects in one pass', () => {
    const many = Array.from({ length: 20_000 }, (_, i): Observation => ({
      subject: { kind: 'device', id: `d${i}` },
      severity: 'warning',
      value: 1,
    }));
    const first = decideRule({ forMs: 0, repeat: 1 }, [], many, t0);
    assert.equal(first.raise.length, 20_000);
    const cleared = decideRule({ forMs: 0, repeat: 1 }, first.upsert, many.slice(10_000), t0 + 1);
    assert.equal(cleared.clear.length, 10_000);
    assert.equal(cleared.upsert.length, 0);
  });
});
