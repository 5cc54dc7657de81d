import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/infra/errors.ts';
import { parseRolloutSpec, stageTarget } from '../../src/ota/rollouts/rollout-spec.ts';

const release = { model: 'tracker-2', version: '2.4.1' };

function problems(input: unknown): string[] {
  try {
    parseRolloutSpec(input);
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    const issues = err.details?.issues as Array<{ path: string; message: string }>;
    return issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ValidationError');
}

describe('parseRolloutSpec', () => {
  it('fills in the documented defaults', () => {
    const spec = parseRolloutSpec({ release });
    assert.deepEqual(
      spec.stages.map((s) => [s.percent, s.holdS, s.manualApproval]),
      [
        [1, 86_400, false],
        [10, 86_400, false],
        [50, 86_400, false],
        [100, 86_400, false],
      ],
    );
    assert.deepEqual(spec.gates, {
      minReported: 1,
      minSuccessRate: 0.95,
      maxFailureRate: 0.05,
      stuckTimeoutS: 7200,
      healthRegression: {
        enabled: true,
        windowS: 86_400,
        minObservationS: 60,
        minDevices: 3,
        minDeviceHours: 1,
        alpha: 0.01,
        metrics: { errors: 1.5, crashes: 1.5, reboots: 1.5, disconnects: 2, battery_drain: 1.25 },
      },
    });
    assert.deepEqual(spec.selector, {});
    assert.equal(spec.maxStartsPerMinute, null);
    assert.equal(spec.mandatory, false);
    assert.deepEqual(spec.maintenanceWindows, []);
  });

  it('is idempotent: a parsed spec parses to itself (the store re-validates what it kept)', () => {
    const spec = parseRolloutSpec({
      release,
      selector: { models: ['tracker-2'], tags: { site: 'north' } },
      stages: [{ count: 5, manualApproval: true }, { count: 50 }, { percent: 100, holdS: 0 }],
      gates: { minReported: 3 },
      maxStartsPerMinute: 100,
      maintenanceWindows: [
        { selector: { regions: ['eu-west'] }, cron: '0 2 * * *', durationS: 3600, timezone: 'Europe/Berlin' },
        { cron: '0 3 * * SAT', durationS: 7200, timezone: 'UTC' },
      ],
    });
    assert.deepEqual(spec.maintenanceWindows[1]?.selector, {});
    assert.deepEqual(parseRolloutSpec(JSON.parse(JSON.stringify(spec))), spec);
    assert.deepEqual(stageTarget(spec.stages[0]!), { kind: 'count', count: 5 });
    assert.deepEqual(stageTarget(spec.stages[2]!), { kind: 'percent', percent: 100 });
  });

  it('accepts a single 100 % stage (everything at once, still gated)', () => {
    assert.equal(parseRolloutSpec({ release, stages: [{ percent: 100 }] }).stages.length, 1);
  });

  it('refuses percentages that do not strictly increase', () => {
    assert.deepEqual(problems({ release, stages: [{ percent: 10 }, { percent: 10 }, { percent: 100 }] }), [
      'stages.1: percent must increase from stage to stage (10 → 10)',
    ]);
    assert.match(
      problems({ release, stages: [{ percent: 50 }, { percent: 5 }, { percent: 100 }] })[0]!,
      /must increase/,
    );
  });

  it('refuses a last stage that does not cover every device', () => {
    assert.deepEqual(problems({ release, stages: [{ percent: 1 }, { percent: 50 }] }), [
      'stages.1: the last stage must be { percent: 100 } to cover every device',
    ]);
    assert.match(problems({ release, stages: [{ count: 1 }, { count: 10 }] })[0]!, /last stage must be/);
  });

  it('refuses counts that do not increase, mixed kinds and 100 % before the last stage', () => {
    assert.match(
      problems({ release, stages: [{ count: 10 }, { count: 5 }, { percent: 100 }] })[0]!,
      /count must increase/,
    );
    assert.match(
      problems({ release, stages: [{ count: 10 }, { percent: 50 }, { percent: 100 }] })[0]!,
      /all percent or all count/,
    );
    assert.match(
      problems({ release, stages: [{ percent: 100 }, { percent: 100 }] })[0]!,
      /only the last stage/,
    );
  });

  it('refuses a stage with both or neither of percent and count, and bad sizes', () => {
    assert.match(
      problems({ release, stages: [{ percent: 1, count: 3 }, { percent: 100 }] })[0]!,
      /exactly one of percent and count/,
    );
    assert.match(problems({ release, stages: [{ holdS: 10 }, { percent: 100 }] })[0]!, /exactly one/);
    assert.match(problems({ release, stages: [{ percent: 0 }, { percent: 100 }] })[0]!, /above 0/);
    assert.match(problems({ release, stages: [{ count: 2.5 }, { percent: 100 }] })[0]!, /stages\.0\.count/);
  });

  it('refuses empty stages and approval on the last stage', () => {
    assert.deepEqual(problems({ release, stages: [] }), ['stages: at least one stage is required']);
    assert.match(
      problems({ release, stages: [{ percent: 100, manualApproval: true }] })[0]!,
      /no stage follows/,
    );
  });

  it('refuses thresholds outside [0, 1] with the field named', () => {
    assert.deepEqual(problems({ release, gates: { minSuccessRate: 1.5, maxFailureRate: -0.1 } }), [
      'gates.minSuccessRate: minSuccessRate must be between 0 and 1',
      'gates.maxFailureRate: maxFailureRate must be between 0 and 1',
    ]);
    assert.match(problems({ release, gates: { minReported: 0 } })[0]!, /minReported must be at least 1/);
    assert.match(problems({ release, gates: { stuckTimeoutS: 0 } })[0]!, /gates\.stuckTimeoutS/);
  });

  it('refuses unknown fields, a missing release and an empty selector list', () => {
    assert.match(problems({ release, stagez: [] })[0]!, /stagez/);
    assert.match(problems({})[0]!, /^release/);
    assert.match(
      problems({ release, selector: { regions: [] } })[0]!,
      /selector\.regions: regions: omit the field/,
    );
    assert.match(problems({ release, maxStartsPerMinute: 0 })[0]!, /maxStartsPerMinute/);
  });

  it('refuses bad maintenance windows, naming the path of each problem', () => {
    const good = { cron: '0 2 * * *', durationS: 3600, timezone: 'Europe/Berlin' };
    const found = problems({
      release,
      maintenanceWindows: [
        good,
        { ...good, cron: '0 2 * *' },
        { ...good, durationS: 30, timezone: 'Nowhere/Town' },
        { ...good, selector: { tags: { ring: 'beta' }, regions: [] } },
        { ...good, when: 'nightly' },
      ],
    });
    assert.equal(found.length, 5, found.join('\n'));
    assert.match(found[0]!, /^maintenanceWindows\.1\.cron: invalid cron: a cron expression has 5 fields/);
    assert.match(found[1]!, /^maintenanceWindows\.2\.durationS: durationS must be at least 60/);
    assert.match(found[2]!, /^maintenanceWindows\.2\.timezone: an IANA time zone/);
    assert.match(found[3]!, /^maintenanceWindows\.3\.selector\.regions: /);
    assert.match(found[4]!, /^maintenanceWindows\.4: .*when/);
  });

  it('puts every problem in the message as well', () => {
    assert.throws(
      () => parseRolloutSpec({ release, stages: [{ percent: 5 }] }),
      /invalid rollout: stages\.0: the last stage/,
    );
  });
});
