/** The sections of the plan document, one function each. Pure. */
import { HEALTH_COUNTERS, healthGauges } from '../agent/telemetry/settings.ts';
import type { AlertSeverity } from '../alerts/alert.ts';
import type { Plan } from './build-plan.ts';
import { fmtBytes, fmtDuration, fmtFleetSize, fmtMoney, fmtNumber } from './format.ts';
import { table } from './markdown.ts';
import { NODE_VCPU } from './cost-model.ts';
import { PRICE_SOURCES } from './prices.ts';
import { ESTIMATES } from './traffic.ts';

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

export function scalingSection(plan: Plan, chartFile: string | null): string {
  const rows = plan.costs.selfHosted.map((r) => [
    fmtFleetSize(r.devices),
    fmtMoney(r.monthly),
    fmtMoney(r.perDevice),
    `${r.bottleneck}${r.overStoreCeiling ? " (past SQLite's single writer)" : ''}`,
    whatToAdd(plan, r),
  ]);
  const managed = plan.costs.selfHosted.map((r, i) => [
    fmtFleetSize(r.devices),
    `${fmtMoney(r.monthly)} (${fmtMoney(r.perDevice)})`,
    `${fmtMoney(plan.costs.aws[i]!.monthly)} (${fmtMoney(plan.costs.aws[i]!.perDevice)}): ${plan.costs.aws[i]!.detail}`,
    `${fmtMoney(plan.costs.azure[i]!.monthly)} (${fmtMoney(plan.costs.azure[i]!.perDevice)}): ${plan.costs.azure[i]!.detail}`,
  ]);
  const detail = plan.costs.selfHosted.map((r) => [
    fmtFleetSize(r.devices),
    fmtNumber(r.totalVcpu),
    ...(['connections', 'telemetry ingest', 'messages', 'downloads'] as const).map((k) =>
      fmtNumber(r.vcpu[k]),
    ),
    fmtNumber(r.storageGB),
    fmtNumber(r.egressGB),
  ]);
  return [
    `Monthly, self-hosted on ${plan.input.configuration.server.store.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, sized for ${plan.input.peakFactor}× the average message rate; prices below.`,
    '',
    table(
      ['devices', 'monthly cost', 'cost per device', 'key bottleneck (largest cost)', 'what to add'],
      rows,
      ['r', 'r', 'r', 'l', 'l'],
    ),
    '',
    "Resources (vCPU; memory as vCPU at the price table's GiB per vCPU):",
    '',
    table(
      [
        'devices',
        'vCPU',
        'connections',
        'telemetry ingest',
        'messages',
        'downloads',
        'storage GB',
        'egress GB/month',
      ],
      detail,
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    "The same traffic on managed services (device messages only; storage, rules' targets and egress of a managed service are not included):",
    '',
    table(
      ['devices', 'self-hosted (per device)', 'AWS IoT Core (per device)', 'Azure IoT Hub (per device)'],
      managed,
    ),
    '',
    chartFile
      ? `![Cost per device against fleet size](${chartFile})`
      : 'Chart: written next to the document with `--out`.',
  ].join('\n');
}

function whatToAdd(plan: Plan, r: Plan['costs']['selfHosted'][number]): string {
  const steps: string[] = [];
  if (r.overStoreCeiling) steps.push('move the store to PostgreSQL');
  else if (r.devices >= 100_000 && plan.input.configuration.server.store.kind === 'sqlite')
    steps.push('plan PostgreSQL (SQLite has one writer)');
  steps.push(`${r.nodes} node${r.nodes === 1 ? '' : 's'} of ${NODE_VCPU} vCPU`);
  if (r.vcpu.connections * plan.prices.vmGiBPerVcpu > NODE_VCPU * plan.prices.vmGiBPerVcpu)
    steps.push(
      `${fmtNumber(r.vcpu.connections * plan.prices.vmGiBPerVcpu)} GiB of broker sessions: an external broker cluster (not built yet; docs/architecture.md, "Embedded default vs scale-out")`,
    );
  if (r.bottleneck === 'telemetry ingest')
    steps.push(`ingest for ${fmtNumber(r.peakBatchesPerS)} batches/s at peak`);
  if (r.storageGB > 1000) steps.push(`${fmtNumber(r.storageGB / 1000)} TB of telemetry storage`);
  return steps.join('; ');
}

export function sourcesSection(plan: Plan): string {
  const b = plan.bench;
  const figures = [
    [
      'memory per connection',
      `${b.connections.kibPerDevice} KiB per device (${fmtNumber(b.connections.devices)} devices)`,
      `connections, ${b.connections.measuredAt}`,
    ],
    [
      'stored telemetry ingest, SQLite',
      `${fmtNumber(b.telemetry.sqlite.batchesPerS)} batches/s, ${fmtNumber(b.telemetry.sqlite.pointsPerS)} points/s on ${b.machine.cores} cores`,
      `telemetry, ${b.telemetry.measuredAt}`,
    ],
    [
      'stored telemetry ingest, PostgreSQL',
      `${fmtNumber(b.telemetry.postgres.batchesPerS)} batches/s, ${fmtNumber(b.telemetry.postgres.pointsPerS)} points/s on ${b.machine.cores} cores`,
      `telemetry, ${b.telemetry.measuredAt}`,
    ],
    [
      'broker CPU per unstored message',
      `${b.telemetry.unstored.brokerCpuMsPer1000} ms per 1,000`,
      `telemetry, ${b.telemetry.measuredAt}`,
    ],
    [
      'bytes per device per day (default agent)',
      `${fmtNumber(b.telemetry.bytesPerDevicePerDay.aggregated.messages)} messages, ${fmtBytes(b.telemetry.bytesPerDevicePerDay.aggregated.upstreamBytes)} up, ${fmtBytes(b.telemetry.bytesPerDevicePerDay.aggregated.downstreamBytes)} down, ${fmtNumber(b.telemetry.bytesPerDevicePerDay.aggregated.points)} points`,
      `telemetry, ${b.telemetry.measuredAt}`,
    ],
    [
      'download server CPU',
      `${b.downloads.serverCpuSPerGiB} CPU s per GiB (${b.downloads.mbPerS} MB/s)`,
      `downloads, ${b.downloads.measuredAt}`,
    ],
    [
      'delta size',
      `${fmtNumber(b.deltas.releasePatchFraction * 100)} % of the image`,
      `deltas, ${b.deltas.measuredAt}`,
    ],
    [
      'zero-touch provisioning',
      `${b.provisioning.perS}/s at ${b.provisioning.concurrency} at once`,
      `provisioning, ${b.provisioning.measuredAt}`,
    ],
  ];
  const priceRows: string[][] = [
    ['VM per vCPU-month', fmtMoney(plan.prices.vmPerVcpuMonth), 'vmPerVcpuMonth'],
    ['GiB of memory per vCPU', String(plan.prices.vmGiBPerVcpu), 'vmGiBPerVcpu'],
    ['storage per GB-month', fmtMoney(plan.prices.storagePerGBMonth), 'storagePerGBMonth'],
    ['egress per GB', fmtMoney(plan.prices.egressPerGB), 'egressPerGB'],
    [
      'AWS IoT Core per million connection-minutes',
      fmtMoney(plan.prices.awsConnectivityPerMillionMin),
      'awsConnectivityPerMillionMin',
    ],
    [
      'AWS IoT Core per million messages (5 KB units; 80 % past 1 B, 70 % past 5 B a month)',
      fmtMoney(plan.prices.awsMessagesPerMillion),
      'awsMessagesPerMillion',
    ],
    [
      'AWS IoT Core rules + actions per million',
      fmtMoney(plan.prices.awsRulesPerMillion),
      'awsRulesPerMillion',
    ],
    [
      'Azure IoT Hub tiers (4 KB units)',
      plan.prices.azureTiers
        .map(
          (t) =>
            `${t.name} ${fmtMoney(t.unitMonth)}/unit-month, ${fmtNumber(t.messagesPerDay)}/day, ≤ ${t.maxUnits} units`,
        )
        .join('; '),
      'azureTiers',
    ],
  ];
  return [
    `Benchmark figures (${plan.benchFile}; source: ${b.source}; machine: ${b.machine.cpu}, ${b.machine.cores} cores):`,
    '',
    table(['figure', 'value', 'section, measured'], figures),
    '',
    'Prices (USD; override any in the input under `prices:`):',
    '',
    table(
      ['price', 'value', 'source'],
      priceRows.map(([label, value, field]) => [label!, value!, priceSource(plan, field!)]),
    ),
    '',
    `Estimates (not measured): heartbeat payload ${ESTIMATES.heartbeatPayloadBytes} B; stored window row with indexes ${ESTIMATES.storedRowBytes} B; HTTPS upload overhead ${ESTIMATES.httpsUploadOverheadUpBytes} B up and ${ESTIMATES.httpsUploadOverheadDownBytes} B down (TLS 1.3 resumption, headers); control plane 2 vCPU; HTTPS uploads hold a connection ~10 s.`,
  ].join('\n');
}

function priceSource(plan: Plan, field: string): string {
  if (plan.overriddenPrices.has(field as never))
    return `input (${plan.input.prices.source ?? 'prices.' + field})`;
  return DEFAULT_SOURCES.get(field) ?? '';
}

const DEFAULT_SOURCES = new Map<string, string>(PRICE_SOURCES.map((s) => [s.field, s.source]));
