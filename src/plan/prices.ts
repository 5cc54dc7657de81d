/**
 * The price table: list prices with their source and date, each overridable in the input
 * (`prices: { vmPerVcpuMonth: 30 }`). Self-hosted prices are those of the VMs, disks and egress a
 * self-hosted Flotilla runs on; AWS IoT Core and Azure IoT Hub are the managed alternatives for
 * the same traffic. Pure data.
 */
import { z } from 'zod';

export interface AzureTier {
  name: string;
  /** Per unit per month, USD. */
  unitMonth: number;
  /** Messages per unit per day (4 KB units). */
  messagesPerDay: number;
  maxUnits: number;
}

export interface PriceTable {
  /** USD per vCPU-month (a general-purpose VM with 4 GiB per vCPU). */
  vmPerVcpuMonth: number;
  /** GiB of memory that come with one vCPU at that price. */
  vmGiBPerVcpu: number;
  /** USD per GB-month of block storage. */
  storagePerGBMonth: number;
  /** USD per GB sent to the internet. */
  egressPerGB: number;
  /** AWS IoT Core: USD per million connection-minutes. */
  awsConnectivityPerMillionMin: number;
  /** AWS IoT Core: USD per million messages (metered in 5 KB units), first billion a month. */
  awsMessagesPerMillion: number;
  /** AWS IoT Core: USD per million rules triggered plus actions executed (one each per message stored). */
  awsRulesPerMillion: number;
  /** Azure IoT Hub standard tiers. */
  azureTiers: AzureTier[];
}

export interface PriceSource {
  field: keyof PriceTable;
  source: string;
}

export const DEFAULT_PRICES: PriceTable = {
  vmPerVcpuMonth: 35.04,
  vmGiBPerVcpu: 4,
  storagePerGBMonth: 0.08,
  egressPerGB: 0.09,
  awsConnectivityPerMillionMin: 0.08,
  awsMessagesPerMillion: 1.0,
  awsRulesPerMillion: 0.3,
  azureTiers: [
    { name: 'S1', unitMonth: 25, messagesPerDay: 400_000, maxUnits: 200 },
    { name: 'S2', unitMonth: 250, messagesPerDay: 6_000_000, maxUnits: 200 },
    { name: 'S3', unitMonth: 2500, messagesPerDay: 300_000_000, maxUnits: 10 },
  ],
};

/** Where each default comes from (list prices, us-east-1 / East US, on-demand, as published in 2024). */
export const PRICE_SOURCES: PriceSource[] = [
  {
    field: 'vmPerVcpuMonth',
    source:
      'AWS EC2 m6i.large on-demand, us-east-1: $0.096/h for 2 vCPU, 8 GiB × 730 h (aws.amazon.com/ec2/pricing, 2024)',
  },
  { field: 'vmGiBPerVcpu', source: 'm6i: 4 GiB per vCPU (same page)' },
  { field: 'storagePerGBMonth', source: 'AWS EBS gp3, us-east-1 (aws.amazon.com/ebs/pricing, 2024)' },
  {
    field: 'egressPerGB',
    source: 'AWS data transfer out to the internet, first 10 TB/month (aws.amazon.com/ec2/pricing, 2024)',
  },
  {
    field: 'awsConnectivityPerMillionMin',
    source: 'AWS IoT Core connectivity, us-east-1 (aws.amazon.com/iot-core/pricing, 2024)',
  },
  {
    field: 'awsMessagesPerMillion',
    source: 'AWS IoT Core messaging, first 1 billion messages/month, 5 KB units (same page, 2024)',
  },
  {
    field: 'awsRulesPerMillion',
    source: 'AWS IoT Core rules engine: $0.15/M rules triggered + $0.15/M actions (same page, 2024)',
  },
  {
    field: 'azureTiers',
    source:
      'Azure IoT Hub standard tiers S1 $25, S2 $250, S3 $2,500 per unit-month; 400 K, 6 M, 300 M messages/unit/day in 4 KB units (azure.microsoft.com/pricing/details/iot-hub, 2024)',
  },
];

const price = z.number({ error: 'expected a price ≥ 0' }).min(0, { error: 'expected a price ≥ 0' });

export const priceOverridesSchema = z
  .strictObject({
    vmPerVcpuMonth: price.optional(),
    vmGiBPerVcpu: z.number().positive().optional(),
    storagePerGBMonth: price.optional(),
    egressPerGB: price.optional(),
    awsConnectivityPerMillionMin: price.optional(),
    awsMessagesPerMillion: price.optional(),
    awsRulesPerMillion: price.optional(),
    azureTiers: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          unitMonth: price,
          messagesPerDay: z.number().int().positive(),
          maxUnits: z.number().int().positive(),
        }),
      )
      .min(1)
      .optional(),
    /** Stated in the table instead of the defaults' sources, e.g. `our AWS EDP contract, 2026-10`. */
    source: z.string().min(1).optional(),
  })
  .prefault({});

export type PriceOverrides = z.output<typeof priceOverridesSchema>;

/** The defaults with the input's overrides, and which fields were overridden. */
export function resolvePrices(overrides: PriceOverrides): {
  prices: PriceTable;
  overridden: Set<keyof PriceTable>;
} {
  const prices: PriceTable = { ...DEFAULT_PRICES };
  const overridden = new Set<keyof PriceTable>();
  for (const key of Object.keys(DEFAULT_PRICES) as Array<keyof PriceTable>) {
    const value = overrides[key];
    if (value === undefined) continue;
    (prices as unknown as Record<string, unknown>)[key] = value;
    overridden.add(key);
  }
  return { prices, overridden };
}
