import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cohortPosition, planCohorts, stageForLateDevice } from '../../src/ota/rollouts/cohorts.ts';
import { parseRolloutSpec, type Stage } from '../../src/ota/rollouts/rollout-spec.ts';

const stagesOf = (stages: unknown): Stage[] =>
  parseRolloutSpec({ release: { model: 'm', version: '1.0.0' }, stages }).stages;
const defaultStages = parseRolloutSpec({ release: { model: 'm', version: '1.0.0' } }).stages;
const ids = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `dev-${i.toString().padStart(6, '0')}`);

describe('cohortPosition', () => {
  it('is a deterministic number in [0, 1) that depends on both ids', () => {
    const p = cohortPosition('ro-1', 'dev-1');
    assert.equal(cohortPosition('ro-1', 'dev-1'), p);
    assert.ok(p >= 0 && p < 1);
    assert.notEqual(cohortPosition('ro-2', 'dev-1'), p);
    // The separator keeps ('ab', 'c') and ('a', 'bc') apart.
    assert.notEqual(cohortPosition('ab', 'c'), cohortPosition('a', 'bc'));
  });
});

describe('planCohorts', () => {
  it('picks the same canaries for the same rollout, whatever the input order', () => {
    const devices = ids(2000);
    const a = planCohorts('ro-1', devices, defaultStages);
    const b = planCohorts('ro-1', [...devices].reverse(), defaultStages);
    assert.deepEqual(a.stages, b.stages);
    assert.notDeepEqual(planCohorts('ro-2', devices, defaultStages).stages[0], a.stages[0]);
  });

  it('makes representative cohorts: 10,000 devices within a few % of 1/9/40/50 %', () => {
    const plan = planCohorts('ro-dist', ids(10_000), defaultStages);
    const sizes = plan.stages.map((s) => s.length);
    const expected = [100, 900, 4000, 5000];
    for (const [i, size] of sizes.entries()) {
      const want = expected[i]!;
      // Binomial standard deviation is at most 50 here; 4 σ keeps the test deterministic in spirit.
      assert.ok(Math.abs(size - want) <= Math.max(0.03 * want, 40), `stage ${i}: ${size} vs ${want}`);
    }
    assert.equal(
      sizes.reduce((a, b) => a + b),
      10_000,
    );
  });

  it('places each device in the stage its position alone gives (stable when the fleet changes)', () => {
    const small = planCohorts('ro-1', ids(500), defaultStages);
    const large = planCohorts('ro-1', ids(5000), defaultStages);
    for (const [id, stage] of small.stageOf) {
      if (stage === 0 && small.stages[0]!.length === 1) continue; // a promoted canary
      assert.equal(large.stageOf.get(id), stage);
      assert.equal(stageForLateDevice('ro-1', id, defaultStages), stage);
    }
  });

  it('ranks by position for absolute counts (cumulative)', () => {
    const stages = stagesOf([{ count: 3 }, { count: 10 }, { percent: 100 }]);
    const plan = planCohorts('ro-c', ids(50), stages);
    assert.deepEqual(
      plan.stages.map((s) => s.length),
      [3, 7, 40],
    );
    const byPosition = ids(50).sort((a, b) => cohortPosition('ro-c', a) - cohortPosition('ro-c', b));
    assert.deepEqual(plan.stages[0], byPosition.slice(0, 3));
    assert.deepEqual(plan.stages[1], byPosition.slice(3, 10));
  });

  it('leaves later count stages empty when the fleet is smaller than the counts', () => {
    const plan = planCohorts('ro-c', ids(4), stagesOf([{ count: 3 }, { count: 10 }, { percent: 100 }]));
    assert.deepEqual(
      plan.stages.map((s) => s.length),
      [3, 1, 0],
    );
  });

  it('always has a canary: 1 % of a tiny fleet takes the lowest-positioned device', () => {
    const devices = ids(5);
    const plan = planCohorts('ro-tiny', devices, defaultStages);
    assert.equal(plan.stages[0]!.length, 1);
    const lowest = [...devices].sort(
      (a, b) => cohortPosition('ro-tiny', a) - cohortPosition('ro-tiny', b),
    )[0];
    assert.deepEqual(plan.stages[0], [lowest]);
    assert.equal(plan.stageOf.get(lowest!), 0);
    assert.equal(plan.stages.flat().length, 5);
  });

  it('orders each stage by position, ignores duplicates and handles no devices', () => {
    const plan = planCohorts('ro-1', [...ids(300), ...ids(300)], defaultStages);
    assert.equal(plan.stageOf.size, 300);
    for (const stage of plan.stages) {
      const positions = stage.map((id) => cohortPosition('ro-1', id));
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
      );
    }
    assert.deepEqual(planCohorts('ro-1', [], defaultStages).stages, [[], [], [], []]);
  });
});
