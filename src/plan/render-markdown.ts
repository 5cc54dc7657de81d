/**
 * The plan as a Markdown document: findings first, then provisioning, OTA, telemetry, monitoring,
 * scaling and cost, quality checks and the figures used. Deterministic for the same plan (the
 * only time in it is `generatedAtMs`, which the caller passes or leaves out). Pure.
 */
import { isoTime } from '../infra/clock.ts';
import type { Plan } from './build-plan.ts';
import { fmtDuration, fmtFleetSize, fmtNumber } from './format.ts';
import { heading, table } from './markdown.ts';
import { measuredPerDevicePerDay } from './live-context.ts';
import { monitoringSection, otaSection, provisioningSection, telemetrySection } from './render-sections.ts';
import { scalingSection, sourcesSection } from './render-costs.ts';

export interface RenderOptions {
  /** The chart's file name relative to the document; null: no chart file was written. */
  chartFile: string | null;
}

export function renderPlanMarkdown(plan: Plan, options: RenderOptions): string {
  const parts = [
    heading(1, `Fleet plan: ${plan.input.name}`),
    header(plan),
    heading(2, 'Findings'),
    findingsSection(plan),
    heading(2, 'Requirements'),
    requirementsSection(plan),
    ...(plan.live ? [heading(2, 'Live fleet'), liveSection(plan)] : []),
    heading(2, 'Provisioning flow'),
    provisioningSection(plan),
    heading(2, 'OTA strategy'),
    otaSection(plan),
    heading(2, 'Telemetry pipeline'),
    telemetrySection(plan),
    heading(2, 'Monitoring'),
    monitoringSection(plan),
    heading(2, 'Scaling projections'),
    scalingSection(plan, options.chartFile),
    heading(2, 'Quality checks'),
    checksSection(plan),
    heading(2, 'Figures and prices used'),
    sourcesSection(plan),
  ];
  return `${parts.join('\n\n')}\n`;
}

function header(plan: Plan): string {
  const lines = [
    `Written by \`flotilla plan\`${plan.generatedAtMs !== null ? ` at ${isoTime(plan.generatedAtMs)}` : ''} from the requirements below${plan.liveSource ? ` and the running server at ${plan.liveSource}` : ''}.`,
  ];
  const passed = plan.checks.filter((c) => c.pass).length;
  const errors = plan.findings.filter((f) => f.severity === 'error').length;
  lines.push(
    '',
    `**${passed} of ${plan.checks.length} quality checks pass; ${errors} blocking finding${errors === 1 ? '' : 's'}, ${plan.findings.length - errors} warning${plan.findings.length - errors === 1 ? '' : 's'}.**`,
  );
  return lines.join('\n');
}

function findingsSection(plan: Plan): string {
  if (plan.findings.length === 0) return 'None: the requirements and the configuration agree.';
  return table(
    ['severity', 'field', 'finding'],
    plan.findings.map((f) => [f.severity === 'error' ? '**error**' : 'warning', `\`${f.field}\``, f.message]),
  );
}

function requirementsSection(plan: Plan): string {
  const i = plan.input;
  const c = i.hardware.connectivity;
  const regulatory = [
    i.regulatory.safetyCriticalUpdates ? 'safety-critical updates' : '',
    i.regulatory.rollbackMandate ? 'rollback mandate' : '',
    i.regulatory.auditRetentionDays !== undefined ? `audit kept ${i.regulatory.auditRetentionDays} d` : '',
    i.regulatory.dataResidency !== undefined ? `data in ${i.regulatory.dataResidency}` : '',
  ].filter(Boolean);
  return table(
    ['', ''],
    [
      [
        'fleet',
        `${fmtNumber(i.fleet.devicesNow)} now, ${fmtNumber(i.fleet.devicesProjected)} projected${i.fleet.models.length > 0 ? `; models ${i.fleet.models.join(', ')}` : ''}`,
      ],
      [
        'hardware',
        `${i.hardware.computeClass}, ${fmtNumber(i.hardware.ramMiB)} MiB RAM, ${fmtNumber(i.hardware.storage.flashMiB)} MiB flash${i.hardware.storage.recoveryPartitionMiB > 0 ? ` (${fmtNumber(i.hardware.storage.recoveryPartitionMiB)} MiB recovery)` : ''}`,
      ],
      [
        'connectivity',
        `${c.kind}, ${fmtNumber(c.bandwidthKbps)} kbit/s, ${c.dataCostPerMiB > 0 ? `$${c.dataCostPerMiB}/MiB` : 'unmetered'}${c.batteryPowered ? ', battery-powered' : ''}`,
      ],
      [
        'firmware',
        `${fmtNumber(i.firmware.imageMiB)} MiB image, ${fmtNumber(i.firmware.updatesPerYear)} releases a year (${fmtNumber(i.firmware.safetyCriticalPerYear)} safety-critical)`,
      ],
      [
        'monitoring',
        `${i.monitoring.metrics.length} required metrics, ${i.monitoring.appMetrics} application metrics${i.monitoring.criticalResponseMin !== undefined ? `, critical alerts within ${i.monitoring.criticalResponseMin} min` : ''}`,
      ],
      ['regulatory', regulatory.length > 0 ? regulatory.join(', ') : 'none'],
    ],
  );
}

function liveSection(plan: Plan): string {
  const live = plan.live!;
  const rows = [
    [
      'devices',
      `${fmtNumber(live.fleet.devices)} registered, ${fmtNumber(live.fleet.online)} online${live.fleet.scoped ? ' (in your device scope)' : ''}`,
    ],
    [
      'models',
      live.fleet.scoped
        ? 'not shown for a device-scoped caller'
        : live.fleet.models.map((m) => `${m.model} (${fmtNumber(m.devices)})`).join(', ') || 'none reported',
    ],
    [
      'firmware',
      live.fleet.firmware.map((f) => `${f.version ?? '(none)'} (${fmtNumber(f.devices)})`).join(', ') ||
        'none reported',
    ],
    [
      'on the current release',
      live.fleet.currentPct === null ? 'no releases' : `${fmtNumber(live.fleet.currentPct)} %`,
    ],
    ['telemetry measured', measuredText(plan)],
    [
      'configuration',
      `the server's own (store ${live.server.store.kind}, ${Object.keys(live.server.alerts.channels).length} alert channels), ${live.alertRules.length} alert rules, ${live.rollout ? `stages of rollout ${live.rollout.id}` : 'default rollout stages (no rollout yet)'}`,
    ],
  ];
  return [
    `From the server (the fleet size below replaces \`fleet.devicesNow\`: ${fmtFleetSize(plan.input.fleet.devicesNow)}):`,
    '',
    table(['', ''], rows),
  ].join('\n');
}

function measuredText(plan: Plan): string {
  const telemetry = plan.live?.telemetry;
  if (!plan.live || telemetry == null)
    return 'not shown for a device-scoped caller (the counters are fleet-wide)';
  const measured = measuredPerDevicePerDay(plan.live);
  if (measured === null) return 'nothing stored since the server started';
  return `${fmtNumber(measured.batches)} batches and ${fmtNumber(measured.records)} records per device per day (over ${fmtDuration(telemetry.measuredOverS)} since the server started); modelled: ${fmtNumber(plan.traffic.telemetryMessagesPerDay)} batches, ${fmtNumber(plan.traffic.pointsPerDay)} points`;
}

function checksSection(plan: Plan): string {
  return table(
    ['check', 'result', 'evidence'],
    plan.checks.map((c) => [c.name, c.pass ? 'pass' : '**FAIL**', c.evidence]),
  );
}
