/**
 * The cost model: what a fleet of N devices needs of a self-hosted Flotilla (vCPU, memory,
 * storage, egress) from the per-device traffic and the benchmark's capacity figures, priced with
 * the price table; and what the same traffic costs on AWS IoT Core and Azure IoT Hub. Pure.
 */
import type { BenchmarkFigures } from './benchmarks.ts';
import { fmtNumber } from './format.ts';
import type { PriceTable } from './prices.ts';
import { DAYS_PER_MONTH, type DeviceTraffic } from './traffic.ts';

export const FLEET_SIZES = [1_000, 10_000, 100_000, 1_000_000] as const;

/** The control plane every installation runs (API, orchestrators, alert evaluation), in vCPU. */
export const CONTROL_PLANE_VCPU = 2;
/** vCPU per node when nodes are counted (a 8 vCPU / 32 GiB VM). */
export const NODE_VCPU = 8;
const GB = 1e9;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export type Resource = 'connections' | 'telemetry ingest' | 'messages' | 'downloads' | 'storage';

export interface SelfHostedCost {
  devices: number;
  /** vCPU per resource, memory counted in vCPU-equivalents (the price table's GiB per vCPU). */
  vcpu: Record<Exclude<Resource, 'storage'>, number>;
  totalVcpu: number;
  nodes: number;
  storageGB: number;
  egressGB: number;
  compute: number;
  storage: number;
  egress: number;
  monthly: number;
  perDevice: number;
  bottleneck: Resource;
  /** Past the store's single-writer ceiling (SQLite): more nodes do not help. */
  overStoreCeiling: boolean;
  peakBatchesPerS: number;
}

export interface ManagedCost {
  devices: number;
  monthly: number;
  perDevice: number;
  detail: string;
}

export interface CostInputs {
  traffic: DeviceTraffic;
  bench: BenchmarkFigures;
  prices: PriceTable;
  store: 'sqlite' | 'postgres';
  peakFactor: number;
}

export function selfHostedCost(devices: number, c: CostInputs): SelfHostedCost {
  const { traffic, bench, prices } = c;
  const cores = bench.machine.cores;
  const ingest = c.store === 'sqlite' ? bench.telemetry.sqlite : bench.telemetry.postgres;
  const peakBatchesPerS = ((devices * traffic.telemetryMessagesPerDay) / 86_400) * c.peakFactor;
  const peakOtherPerS = ((devices * traffic.otherMessagesPerDay) / 86_400) * c.peakFactor;
  // A persistent session holds its memory all the time; HTTPS uploads only while they run (~10 s).
  const connected =
    traffic.connectedMinutesPerMonth > 0
      ? devices
      : Math.min(
          devices,
          (devices * (traffic.telemetryMessagesPerDay + traffic.otherMessagesPerDay) * 10) / 86_400,
        );
  const connectionGiB = (connected * bench.connections.kibPerDevice * 1024) / GIB;
  const otaGiBPerS = (devices * traffic.otaBytesPerMonth) / GIB / (DAYS_PER_MONTH * 86_400);
  const vcpu = {
    connections: connectionGiB / prices.vmGiBPerVcpu,
    'telemetry ingest': peakBatchesPerS / (ingest.batchesPerS / cores),
    messages: (peakOtherPerS * bench.telemetry.unstored.brokerCpuMsPer1000) / 1000 / 1000,
    // Rollout waves: a stage downloads in hours, not spread over the month.
    downloads: otaGiBPerS * bench.downloads.serverCpuSPerGiB * c.peakFactor,
  };
  const totalVcpu = CONTROL_PLANE_VCPU + Object.values(vcpu).reduce((a, b) => a + b, 0);
  const storageGB = (devices * traffic.storedBytes) / GB;
  const egressGB =
    (devices * (traffic.downstreamBytesPerDay * DAYS_PER_MONTH + traffic.otaBytesPerMonth)) / GB;
  const compute = totalVcpu * prices.vmPerVcpuMonth;
  const storage = storageGB * prices.storagePerGBMonth;
  const egress = egressGB * prices.egressPerGB;
  const monthly = compute + storage + egress;
  const ranked: Array<[Resource, number]> = [
    ...(Object.entries(vcpu) as Array<[Resource, number]>),
    ['storage', storage / prices.vmPerVcpuMonth],
  ];
  ranked.sort((a, b) => b[1] - a[1]);
  return {
    devices,
    vcpu,
    totalVcpu,
    nodes: Math.ceil(totalVcpu / NODE_VCPU),
    storageGB,
    egressGB,
    compute,
    storage,
    egress,
    monthly,
    perDevice: monthly / devices,
    bottleneck: ranked[0]![0],
    overStoreCeiling: c.store === 'sqlite' && peakBatchesPerS > bench.telemetry.sqlite.batchesPerS,
    peakBatchesPerS,
  };
}

/** Billable units of one message: metered in `unitBytes` increments, at least one. */
const units = (bytes: number, unitBytes: number): number => Math.max(1, Math.ceil(bytes / unitBytes));

export function awsIotCoreCost(devices: number, c: CostInputs): ManagedCost {
  const t = c.traffic;
  const perDeviceMessages =
    (t.telemetryMessagesPerDay * units(t.telemetryMessageBytes, 5 * 1024) + t.otherMessagesPerDay) *
    DAYS_PER_MONTH;
  const millions = (devices * perDeviceMessages) / 1e6;
  const connectivity = ((devices * t.connectedMinutesPerMonth) / 1e6) * c.prices.awsConnectivityPerMillionMin;
  const messaging = awsMessaging(millions, c.prices.awsMessagesPerMillion);
  const rules = ((devices * t.telemetryMessagesPerDay * DAYS_PER_MONTH) / 1e6) * c.prices.awsRulesPerMillion;
  const monthly = connectivity + messaging + rules;
  return {
    devices,
    monthly,
    perDevice: monthly / devices,
    detail: `${fmtMillions(millions)} M messages, ${fmtMillions((devices * t.connectedMinutesPerMonth) / 1e6)} M connection-minutes`,
  };
}

/** AWS messaging tiers: the base price for the first billion a month, 80 % to 5 billion, 70 % beyond. */
function awsMessaging(millions: number, basePerMillion: number): number {
  const first = Math.min(millions, 1000);
  const second = Math.min(Math.max(millions - 1000, 0), 4000);
  const rest = Math.max(millions - 5000, 0);
  return (first + second * 0.8 + rest * 0.7) * basePerMillion;
}

export function azureIotHubCost(devices: number, c: CostInputs): ManagedCost {
  const t = c.traffic;
  const perDay =
    devices * (t.telemetryMessagesPerDay * units(t.telemetryMessageBytes, 4 * 1024) + t.otherMessagesPerDay);
  let best: ManagedCost | undefined;
  for (const tier of c.prices.azureTiers) {
    const unitCount = Math.max(1, Math.ceil(perDay / tier.messagesPerDay));
    const hubs = Math.ceil(unitCount / tier.maxUnits);
    const monthly = unitCount * tier.unitMonth;
    if (best === undefined || monthly < best.monthly)
      best = {
        devices,
        monthly,
        perDevice: monthly / devices,
        detail: `${tier.name} × ${unitCount}${hubs > 1 ? ` in ${hubs} hubs` : ''} (${fmtMillions(perDay / 1e6)} M messages/day)`,
      };
  }
  return best!;
}

const fmtMillions = (value: number): string => fmtNumber(value);

export interface CostTable {
  selfHosted: SelfHostedCost[];
  aws: ManagedCost[];
  azure: ManagedCost[];
}

export function costTable(c: CostInputs, sizes: readonly number[] = FLEET_SIZES): CostTable {
  return {
    selfHosted: sizes.map((n) => selfHostedCost(n, c)),
    aws: sizes.map((n) => awsIotCoreCost(n, c)),
    azure: sizes.map((n) => azureIotHubCost(n, c)),
  };
}

/** Added cost per added device between consecutive sizes, in USD per device-month. */
export function marginalCosts(rows: readonly SelfHostedCost[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < rows.length; i += 1) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    out.push((b.monthly - a.monthly) / (b.devices - a.devices));
  }
  return out;
}
