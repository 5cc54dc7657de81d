/** Alert-rule schema: impossible thresholds are refused naming the field; the shipped defaults are the issue's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertRuleSchema, levelFor, type AlertRuleInput } from '../../src/alerts/rules/alert-rule.ts';
import { defaultAlertRules } from '../../src/alerts/rules/default-rules.ts';

const device = (overrides: Partial<AlertRuleInput>): AlertRuleInput => ({
  name: 'r',
  target: 'device',
  metric: 'battery',
  operator: '<',
  levels: [{ severity: 'warning', threshold: 10 }],
  ...overrides,
});

/** The paths of the issues, joined with dots (as the API names them after `body.`). */
function refusedFields(input: unknown): string[] {
  const result = alertRuleSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the rule to be refused');
  return result.error.issues.map((issue) => issue.path.join('.'));
}

describe('alert rule validation', () => {
  it('accepts sensible rules and fills defaults', () => {
    const rule = alertRuleSchema.parse(device({}));
    assert.equal(rule.enabled, true);
    assert.equal(rule.for, '0s');
    assert.equal(rule.repeat, 1);
    alertRuleSchema.parse(
      device({
        metric: 'telemetry.pump.flow_lpm',
        operator: '>',
        levels: [{ severity: 'info', threshold: 1e6 }],
      }),
    );
    alertRuleSchema.parse({ name: 'q', target: 'device', query: 'offline_for > 7d', severity: 'info' });
    alertRuleSchema.parse({
      name: 'g',
      target: 'group',
      metric: 'online_pct',
      operator: '<',
      levels: [{ severity: 'warning', threshold: 90 }],
      groups: ['beta'],
      repeat: 3,
    });
  });

  for (const [what, input, field] of [
    [
      'battery below 150 %',
      device({ levels: [{ severity: 'warning', threshold: 150 }] }),
      'levels.0.threshold',
    ],
    [
      'battery below -1 %',
      device({ levels: [{ severity: 'warning', threshold: -1 }] }),
      'levels.0.threshold',
    ],
    [
      'signal above 10 dBm',
      device({ metric: 'signal', operator: '>', levels: [{ severity: 'warning', threshold: 10 }] }),
      'levels.0.threshold',
    ],
    [
      'a second level outside the range',
      device({
        levels: [
          { severity: 'warning', threshold: 10 },
          { severity: 'critical', threshold: -5 },
        ],
      }),
      'levels.1.threshold',
    ],
    [
      'fleet online above 100 %',
      {
        name: 'f',
        target: 'fleet',
        metric: 'online_pct',
        operator: '<',
        levels: [{ severity: 'warning', threshold: 120 }],
      },
      'levels.0.threshold',
    ],
    [
      'error rate below 0 %',
      device({ metric: 'error_rate', operator: '>', levels: [{ severity: 'warning', threshold: -0.5 }] }),
      'levels.0.threshold',
    ],
    ['a negative duration', device({ for: '-10m' }), 'for'],
    ['a duration without unit', device({ for: '10' }), 'for'],
    ['a repeat of 0', device({ repeat: 0 }), 'repeat'],
    [
      'a negative offline threshold',
      device({ metric: 'offline_for', operator: '>', levels: [{ severity: 'warning', threshold: '-24h' }] }),
      'levels.0.threshold',
    ],
    ['an unknown metric', device({ metric: 'batery' }), 'metric'],
    ['a device metric on a fleet rule', device({ target: 'fleet' }), 'metric'],
    ['both for and repeat', device({ for: '10m', repeat: 3 }), 'repeat'],
    [
      'a ladder in the wrong order',
      device({
        levels: [
          { severity: 'warning', threshold: 5 },
          { severity: 'critical', threshold: 10 },
        ],
      }),
      'levels',
    ],
    [
      'two levels of one severity',
      device({
        levels: [
          { severity: 'warning', threshold: 5 },
          { severity: 'warning', threshold: 8 },
        ],
      }),
      'levels',
    ],
    ['a query on a fleet rule', { name: 'q', target: 'fleet', query: 'online', severity: 'info' }, 'query'],
    ['a query without severity', { name: 'q', target: 'device', query: 'online' }, 'severity'],
    ['an upper-case name', device({ name: 'Battery' }), 'name'],
  ] as const) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.ok(refusedFields(input).includes(field), JSON.stringify(refusedFields(input)));
    });
  }

  it('picks the most severe level a value reaches', () => {
    const rule = alertRuleSchema.parse(
      device({
        levels: [
          { severity: 'warning', threshold: 10 },
          { severity: 'critical', threshold: 5 },
        ],
      }),
    );
    assert.equal(levelFor(rule, 4), 'critical');
    assert.equal(levelFor(rule, 8), 'warning');
    assert.equal(levelFor(rule, 10), undefined);
  });

  it('ships exactly the defaults of the issue', () => {
    const summary = defaultAlertRules.map((r) => [
      r.name,
      r.target,
      r.metric,
      r.operator,
      (r.levels ?? []).map((l) => `${l.severity}:${String(l.threshold)}`).join(' '),
    ]);
    assert.deepEqual(summary, [
      ['battery-low', 'device', 'battery', '<', 'warning:10 critical:5'],
      ['signal-weak', 'device', 'signal', '<', 'warning:-90'],
      ['device-error-rate-high', 'device', 'error_rate', '>', 'warning:1'],
      ['device-offline', 'device', 'offline_for', '>', 'warning:24h'],
      ['fleet-online-low', 'fleet', 'online_pct', '<', 'warning:95'],
      ['fleet-firmware-current-low', 'fleet', 'firmware_current_pct', '<', 'info:80'],
    ]);
  });
});
