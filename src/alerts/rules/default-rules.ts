/**
 * The rules every new installation starts with (issue 7): seeded once on first start, then the
 * operator's to edit, disable or delete; seeding never brings back or overwrites a rule it seeded
 * before. Table in docs/alerts.md, "Shipped defaults".
 */
import { alertRuleSchema, type AlertRule, type AlertRuleInput } from './alert-rule.ts';

const defaults: AlertRuleInput[] = [
  {
    name: 'battery-low',
    description: 'Battery below 10 % (warning) or 5 % (critical)',
    target: 'device',
    metric: 'battery',
    operator: '<',
    levels: [
      { severity: 'warning', threshold: 10 },
      { severity: 'critical', threshold: 5 },
    ],
    for: '10m',
  },
  {
    name: 'signal-weak',
    description: 'Signal below -90 dBm',
    target: 'device',
    metric: 'signal',
    operator: '<',
    levels: [{ severity: 'warning', threshold: -90 }],
    for: '15m',
  },
  {
    name: 'device-error-rate-high',
    description: 'More than 1 error per 100 samples over the last hour',
    target: 'device',
    metric: 'error_rate',
    operator: '>',
    levels: [{ severity: 'warning', threshold: 1 }],
    for: '10m',
  },
  {
    name: 'device-offline',
    description: 'Device offline for more than 24 hours',
    target: 'device',
    metric: 'offline_for',
    operator: '>',
    levels: [{ severity: 'warning', threshold: '24h' }],
  },
  {
    name: 'fleet-online-low',
    description: 'Less than 95 % of the fleet online',
    target: 'fleet',
    metric: 'online_pct',
    operator: '<',
    levels: [{ severity: 'warning', threshold: 95 }],
    for: '10m',
  },
  {
    name: 'fleet-firmware-current-low',
    description: 'Less than 80 % of devices on their model’s current release',
    target: 'fleet',
    metric: 'firmware_current_pct',
    operator: '<',
    levels: [{ severity: 'info', threshold: 80 }],
    for: '1h',
  },
];

export const defaultAlertRules: readonly AlertRule[] = defaults.map((rule) => alertRuleSchema.parse(rule));
