/** The scaling and cost sections of the plan document, and the figures and prices they used. Pure. */
import type { Plan } from './build-plan.ts';
import { CONTROL_PLANE_VCPU, NODE_VCPU, type SelfHostedCost } from './cost-model.ts';
import { fmtBytes, fmtFleetSize, fmtMoney, fmtNumber } from './format.ts';
import { table } from './markdown.ts';
import { PRICE_SOURCES } from './prices.ts';
import { ESTIMATES } from './traffic.ts';

/** vCPU with two decimals; below that, `< 0.01`. */
const fmtVcpu = (value: number): string =>
  value < 0.005 ? '< 0.01' : value < 10 ? value.toFixed(2) : fmtNumber(value);

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
    fmtVcpu(r.totalVcpu),
    ...(['connections', 'telemetry ingest', 'messages', 'downloads'] as const).map((k) => fmtVcpu(r.vcpu[k])),
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

function whatToAdd(plan: Plan, r: SelfHostedCost): string {
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
    `Estimates (not measured): heartbeat payload ${ESTIMATES.heartbeatPayloadBytes} B; stored window row with indexes ${ESTIMATES.storedRowBytes} B; HTTPS upload overhead ${ESTIMATES.httpsUploadOverheadUpBytes} B up and ${ESTIMATES.httpsUploadOverheadDownBytes} B down (TLS 1.3 resumption, headers), gzip to ${ESTIMATES.httpsGzipRatio * 100} % of the JSON; control plane ${CONTROL_PLANE_VCPU} vCPU; HTTPS uploads hold a connection ~10 s.`,
  ].join('\n');
}

function priceSource(plan: Plan, field: string): string {
  if (plan.overriddenPrices.has(field as never))
    return `input (${plan.input.prices.source ?? 'prices.' + field})`;
  return DEFAULT_SOURCES.get(field) ?? '';
}

const DEFAULT_SOURCES = new Map<string, string>(PRICE_SOURCES.map((s) => [s.field, s.source]));
