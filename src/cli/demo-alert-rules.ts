/**
 * Alert rules for the demo fleet, so the dashboard's alerts page has something to show within a
 * minute of `npm start`. The shipped defaults (src/alerts/rules/default-rules.ts) wait 10 minutes
 * to 24 hours before raising an alert, and a fresh simulated fleet rarely crosses them; these fire
 * on the first evaluation. Seeded once per data directory (a marker file), so a rule the user
 * edits or deletes stays that way across restarts.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AlertRuleInput } from '../alerts/rules/alert-rule.ts';
import type { DemoApi } from './demo-releases.ts';

/** Written to the data directory once the demo rules were created. */
export const DEMO_RULES_MARKER = 'demo-alert-rules-seeded';

export const demoAlertRules: readonly AlertRuleInput[] = [
  {
    name: 'demo-firmware-outdated',
    description:
      'Demo: device runs a firmware two or more releases behind its model (rolling out a newer release clears it)',
    target: 'device',
    query:
      '(model = "tracker-2" and firmware < 2.4.0) or (model = "sensor-mini" and firmware < 3.0.1) or (model = "gateway-x1" and firmware < 1.7.3)',
    severity: 'warning',
  },
  {
    name: 'demo-signal-weak',
    description:
      'Demo: signal below -90 dBm in the last telemetry (the shipped signal-weak waits 15 minutes)',
    target: 'device',
    metric: 'signal',
    operator: '<',
    levels: [{ severity: 'info', threshold: -90 }],
  },
  {
    name: 'demo-battery-low',
    description: 'Demo: battery below 65 % (the simulated batteries start between 60 and 100 %)',
    target: 'device',
    metric: 'battery',
    operator: '<',
    levels: [{ severity: 'warning', threshold: 65 }],
  },
  {
    name: 'demo-device-offline',
    description: 'Demo: device silent for more than 2 minutes (stop the server for a while to see it)',
    target: 'device',
    metric: 'offline_for',
    operator: '>',
    levels: [{ severity: 'critical', threshold: '2m' }],
  },
];

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Creates the demo rules unless this data directory had them once (409: created by an earlier start). */
export async function seedDemoAlertRules(api: DemoApi, dataDir: string, logger: Logger): Promise<void> {
  const marker = join(dataDir, DEMO_RULES_MARKER);
  if (await exists(marker)) return;
  for (const rule of demoAlertRules) {
    const response = await fetch(`${api.httpUrl}/api/v1/alert-rules`, {
      method: 'POST',
      headers: { ...api.headers, 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
    if (!response.ok && response.status !== 409) {
      throw new Error(
        `demo fleet: alert rule ${rule.name} refused with HTTP ${response.status}: ${await response.text()}`,
      );
    }
  }
  await writeFile(marker, `${new Date().toISOString()}\n`);
  logger.info({ rules: demoAlertRules.map((r) => r.name) }, 'demo alert rules created');
}
