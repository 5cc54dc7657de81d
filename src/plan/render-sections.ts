/** The sections of the plan document, one function each. Pure. */
import { HEALTH_COUNTERS, healthGauges } from '../agent/telemetry/settings.ts';
import type { AlertSeverity } from '../alerts/alert.ts';
import type { Plan } from './build-plan.ts';
import { fmtBytes, fmtDuration, fmtMoney, fmtNumber } from './format.ts';
import { table } from './markdown.ts';

export function provisioningSection(plan: Plan): string {
  const { method, ownerAssignment } = plan.input.configuration.provisioning;
  const p = plan.bench.provisioning;
  const perDeviceS = p.concurrency / p.perS;
  const fleetS = plan.input.fleet.devicesNow / p.perS;
  const factory =
    method === 'zero-touch'
      ? [
          '`flotilla factory batch`: the batch claim certificate, CA chain and serials go into the production image',
          'once per batch',
          'no',
        ]
      : method === 'factory-certificate'
        ? [
            'the device generates its key on the line; `flotilla factory sign-csr` signs its certificate',
            `${fmtNumber(1 / 51)} s per device (benchmarks "Certificate signing": 51/s)`,
            'no',
          ]
        : ['nothing device-specific', '—', 'no'];
  const registration =
    method === 'manual'
      ? ['an operator registers the device and installs its certificate', 'minutes per device', 'yes']
      : method === 'zero-touch'
        ? [
            'claim session over mTLS with the batch certificate: CSR in, device certificate out, registered in one transaction',
            `${fmtNumber(perDeviceS)} s per device at ${p.concurrency} at once; ${fmtDuration(fleetS)} for ${fmtNumber(plan.input.fleet.devicesNow)} devices (benchmarks "Zero-touch provisioning": ${p.perS}/s)`,
            'no',
          ]
        : [
            'first connection with the factory certificate creates the device record',
            'one mTLS connect',
            'no',
          ];
  const rows = [
    ['1. factory', ...factory],
    [
      '2. first boot',
      method === 'zero-touch'
        ? 'the agent generates an ECDSA P-256 key and a CSR naming its serial'
        : 'the agent starts with its identity',
      'seconds',
      'no',
    ],
    ['3. cloud registration', ...registration],
    [
      '4. owner assignment',
      ownerAssignment === 'api'
        ? 'the ordering system sets owner and tags through the management API (group operations for batches)'
        : 'an operator assigns each device',
      ownerAssignment === 'api' ? 'one API call per batch' : 'minutes per device',
      ownerAssignment === 'api' ? 'no' : 'yes',
    ],
    [
      '5. operational',
      "state report, telemetry and update offers on the device's own topics; certificate renewed at 2/3 of its lifetime",
      'continuous',
      'no',
    ],
  ];
  return [
    'factory → first boot → cloud registration → owner assignment → operational',
    '',
    table(['step', 'method', 'duration', 'manual?'], rows),
  ].join('\n');
}

export function otaSection(plan: Plan): string {
  const byTopic = new Map(plan.ota.decisions.map((d) => [d.topic, d]));
  const rows = ['partition scheme', 'delivery', 'verification', 'rollback', 'staged rollout'].map((topic) => {
    const d = byTopic.get(topic);
    return [topic, d?.choice ?? '—', d?.reason ?? '—'];
  });
  const format = plan.ota.deltasMandatory
    ? 'BSDIFF40 delta against the installed version'
    : plan.input.configuration.update.deltas === 'never'
      ? 'full image'
      : 'BSDIFF40 delta when one exists, else the full image';
  rows.splice(2, 0, [
    'format',
    format,
    `a delta is ${fmtNumber(plan.bench.deltas.releasePatchFraction * 100)} % of the image between consecutive releases (benchmarks "Firmware deltas")`,
  ]);
  const perMonth = plan.traffic.otaBytesPerMonth;
  return [
    table(['aspect', 'choice', 'why'], rows),
    '',
    `Firmware traffic: ${fmtNumber(plan.input.firmware.updatesPerYear)} releases a year of a ${fmtNumber(plan.input.firmware.imageMiB)} MiB image → ${fmtBytes(perMonth)} per device per month on average.`,
  ].join('\n');
}

export function telemetrySection(plan: Plan): string {
  const s = plan.telemetry.settings;
  const retention = plan.input.configuration.server.telemetry.retentionDays;
  const d = (ms: number) => fmtDuration(ms / 1000);
  const overrides = Object.entries(s.metrics).map(([name, c]) => [
    `health: ${name}`,
    `sampled every ${d(c.sampleMs ?? s.health.sampleMs)}`,
    `${d(c.windowMs ?? s.health.windowMs)} windows (min/max/avg/count/last)`,
    `raw ${retention.healthRaw} d`,
  ]);
  const rows = [
    [
      'health gauges (' + healthGauges.join(', ') + ')',
      `sampled every ${d(s.health.sampleMs)}`,
      `${d(s.health.windowMs)} windows (min/max/avg/count/last)`,
      `raw ${retention.healthRaw} d`,
    ],
    [
      'health counters (' + [...HEALTH_COUNTERS].join(', ') + ')',
      `summed every ${d(s.health.sampleMs)}`,
      `${d(s.health.windowMs)} windows`,
      `raw ${retention.healthRaw} d`,
    ],
    ...overrides,
    [
      `application metrics (${plan.input.monitoring.appMetrics})`,
      `sampled every ${d(s.app.sampleMs)}`,
      `${d(s.app.windowMs)} windows`,
      `raw ${retention.appRaw} d`,
    ],
    [
      'events (errors, boots, update statuses)',
      'as they happen',
      'none (sent at once)',
      `${retention.events} d`,
    ],
    [
      'hourly and daily rollups (server)',
      'per hour / per day',
      'from the raw windows',
      `${retention.hourlyRollups} d / ${retention.dailyRollups} d`,
    ],
  ];
  const t = plan.traffic;
  const link = plan.input.hardware.connectivity;
  const traffic = [
    ['data points per day', fmtNumber(t.pointsPerDay)],
    ['telemetry messages per day', fmtNumber(t.telemetryMessagesPerDay)],
    [
      'other messages per day',
      `${fmtNumber(t.otherMessagesPerDay)} (${plan.telemetry.transport === 'mqtt' ? 'heartbeats' : 'update offer polls'})`,
    ],
    ['device → server per day', fmtBytes(t.upstreamBytesPerDay)],
    ['server → device per day', fmtBytes(t.downstreamBytesPerDay)],
    ['firmware per month', fmtBytes(t.otaBytesPerMonth)],
    ['**bytes per device per month**', `**${fmtBytes(t.bytesPerMonth)}**`],
    [
      'carrier cost per device per month',
      link.dataCostPerMiB > 0
        ? `${fmtMoney(t.dataCostPerMonth)} at ${fmtMoney(link.dataCostPerMiB)}/MiB`
        : 'unmetered',
    ],
    [
      'stored per device (steady state)',
      `${fmtBytes(t.storedBytes)} (${fmtNumber(t.storedRowsPerDay)} window rows a day)`,
    ],
  ];
  const transport =
    plan.telemetry.transport === 'https'
      ? 'HTTPS batch upload (device API)'
      : 'MQTT session (QoS 1, acked after the store write)';
  return [
    `agent collector (samples → windows) → outbox (survives power loss) → ${transport} → validation → group-commit store (${plan.input.configuration.server.store.kind}) → rollups → retention job (Parquet archive)`,
    '',
    `Cadence (${plan.telemetry.source}): ${plan.decisions.find((x) => x.topic === 'telemetry cadence')?.reason ?? ''}.`,
    '',
    table(['data type', 'frequency', 'aggregation', 'retention'], rows),
    '',
    `Per device, from these cadences and the measured message sizes (benchmarks "Bytes per device per day": ${fmtNumber(plan.bench.telemetry.bytesPerDevicePerDay.aggregated.payloadBytes / plan.bench.telemetry.bytesPerDevicePerDay.aggregated.points)} payload bytes per data point, framing per message as measured):`,
    '',
    table(['', 'per device'], traffic, ['l', 'r']),
  ].join('\n');
}

const chainText = (plan: Plan, severity: AlertSeverity): string =>
  plan.input.configuration.server.alerts.escalation.policies[severity]
    .map(
      (step) =>
        `${step.afterS === 0 ? 'at once' : `after ${fmtDuration(step.afterS)}`}: ${step.channels.join(', ')}`,
    )
    .join('; ') || 'none';

export function monitoringSection(plan: Plan): string {
  const required = plan.input.monitoring.metrics.map((m) => {
    const rule = plan.input.configuration.alertRules.find((r) => r.enabled && r.metric === m.metric);
    return [
      m.metric,
      `${m.threshold} (every ${fmtDuration(m.intervalS)})`,
      m.severity,
      chainText(plan, m.severity),
      rule ? `rule \`${rule.name}\`` : '**no rule**',
    ];
  });
  const configured = plan.input.configuration.alertRules
    .filter((r) => r.enabled && !plan.input.monitoring.metrics.some((m) => m.metric === r.metric))
    .map((r) => {
      const levels = (r.levels ?? [])
        .map((l) => `${r.operator ?? ''} ${l.threshold} → ${l.severity}`)
        .join(', ');
      const severity = r.levels?.at(-1)?.severity ?? r.severity ?? 'warning';
      return [
        r.metric ?? r.query ?? r.name,
        levels || (r.query ?? ''),
        severity,
        chainText(plan, severity),
        `rule \`${r.name}\` (configured)`,
      ];
    });
  const channels = Object.entries(plan.input.configuration.server.alerts.channels).map(
    ([name, c]) => `${name} (${c.type})`,
  );
  return [
    table(
      ['metric', 'threshold', 'alert severity', 'escalation', 'covered by'],
      [...required, ...configured],
    ),
    '',
    `Channels: ${channels.length > 0 ? channels.join(', ') : 'only the log'}; rules evaluated every ${plan.input.configuration.server.alerts.evaluationIntervalS} s.`,
  ].join('\n');
}
