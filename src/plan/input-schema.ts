/**
 * The plan's input document (YAML or JSON): the fleet's requirements and, optionally, the planned
 * Flotilla configuration. One schema; errors name the field (`hardware.storage.flashMiB: …`).
 * Pure. Annotated examples: docs/examples/plan-*.yaml; reference: docs/plan.md.
 */
import { z } from 'zod';
import { alertSeverities } from '../alerts/alert.ts';
import { ValidationError } from '../infra/errors.ts';
import { priceOverridesSchema } from './prices.ts';
import { plannedConfigurationSchema } from './configuration.ts';

const positive = (what = 'a positive number') =>
  z.number({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const nonNegative = (what = 'a number ≥ 0') =>
  z.number({ error: `expected ${what}` }).min(0, { error: `expected ${what}` });
const count = (what = 'a whole number ≥ 1') =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(1, { error: `expected ${what}` });

export const connectivityKinds = ['wifi', 'ethernet', 'lte', 'lte-m', 'nb-iot'] as const;
export type ConnectivityKind = (typeof connectivityKinds)[number];
export const computeClasses = ['mcu', 'embedded-linux', 'gateway'] as const;

const fleetSchema = z.strictObject({
  /** Devices in the field now. */
  devicesNow: count(),
  /** Devices expected at the end of the projection. */
  devicesProjected: count(),
  /** Hardware model names (for the document; a live server reports its own). */
  models: z.array(z.string().min(1)).default([]),
});

const hardwareSchema = z.strictObject({
  storage: z.strictObject({
    /** Flash (or disk) available for firmware, in MiB: slots plus any recovery partition. */
    flashMiB: positive(),
    /** A recovery partition (a minimal image that can re-download the firmware), in MiB; 0 = none. */
    recoveryPartitionMiB: nonNegative().default(0),
  }),
  ramMiB: positive(),
  connectivity: z.strictObject({
    kind: z.enum(connectivityKinds, { error: `expected one of ${connectivityKinds.join(', ')}` }),
    /** Usable uplink bandwidth, in kbit/s. */
    bandwidthKbps: positive(),
    /** What the operator pays the carrier per MiB (0 on Wi-Fi/Ethernet). */
    dataCostPerMiB: nonNegative().default(0),
    /** Battery-powered: the radio should sleep between uploads. */
    batteryPowered: z.boolean().default(false),
  }),
  computeClass: z.enum(computeClasses, { error: `expected one of ${computeClasses.join(', ')}` }),
});

const firmwareSchema = z.strictObject({
  /** Size of one full firmware image, in MiB. */
  imageMiB: positive(),
  /** Releases rolled out per year. */
  updatesPerYear: positive(),
  /** Of those, security or safety fixes that must reach every device. */
  safetyCriticalPerYear: nonNegative().default(0),
});

const monitoredMetricSchema = z.strictObject({
  /** An alert rule metric (battery, signal, temperature, error_rate, offline_for, online_pct, …). */
  metric: z.string().min(1),
  /** How often the value is sampled on the device, in seconds. */
  intervalS: positive(),
  /** e.g. `< 20`, `> 70`, `> 24h`. */
  threshold: z.string().regex(/^(<|<=|>|>=) ?\S+$/, 'expected an operator and a value, e.g. "< 20"'),
  severity: z.enum(alertSeverities),
});

const monitoringSchema = z.strictObject({
  metrics: z.array(monitoredMetricSchema).default([]),
  /** Application metrics a device reports besides the health metrics. */
  appMetrics: nonNegative('a whole number ≥ 0').int().default(3),
  /** Minutes within which a critical alert must reach a person. */
  criticalResponseMin: positive().optional(),
});

const regulatorySchema = z
  .strictObject({
    /** Updates can fix safety issues: every device must take them, staged with manual approval. */
    safetyCriticalUpdates: z.boolean().default(false),
    /** A failed update must return the device to the previous firmware without a person. */
    rollbackMandate: z.boolean().default(false),
    /** How long the audit trail must be kept, in days. */
    auditRetentionDays: count().optional(),
    /** Where data must stay, e.g. `eu`. */
    dataResidency: z.string().min(1).optional(),
  })
  .prefault({});

export const planInputSchema = z.strictObject({
  /** The document's title. */
  name: z.string().min(1),
  fleet: fleetSchema,
  hardware: hardwareSchema,
  firmware: firmwareSchema,
  monitoring: monitoringSchema.prefault({}),
  regulatory: regulatorySchema,
  /** The Flotilla configuration planned for this fleet; absent fields are Flotilla's defaults. */
  configuration: plannedConfigurationSchema,
  /** Overrides of the default price table (src/plan/prices.ts). */
  prices: priceOverridesSchema,
  /** Peak over average message rate the self-hosted capacity is sized for. */
  peakFactor: z.number().min(1).max(100).default(3),
});

export type PlanInput = z.output<typeof planInputSchema>;

/** One line per problem, each naming its field: `hardware.storage.flashMiB: expected a positive number`. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
}

/** Validates a parsed YAML/JSON document; throws ValidationError listing every problem by field. */
export function parsePlanInput(document: unknown): PlanInput {
  const parsed = planInputSchema.safeParse(document);
  if (!parsed.success)
    throw new ValidationError(`invalid plan input:\n  ${formatIssues(parsed.error).join('\n  ')}`);
  return parsed.data;
}
