/**
 * Device configuration: the schema a device declares for its settings, the desired document the
 * cloud sends (`fl/d/{id}/config/desired`, and `GET /device/v1/config`) and the report the device
 * sends back (`fl/d/{id}/config/reported`, and `POST /device/v1/config/reported`). Types are
 * inferred from these schemas; docs/device-config.md documents them for C firmware.
 */
import { z } from 'zod';

/** Dotted lower-camel names: `telemetry.healthSampleS`, `log.level`. */
export const configKeySchema = z
  .string()
  .max(128)
  .regex(
    /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/,
    'config keys are dotted names of [a-z][A-Za-z0-9]* segments, e.g. telemetry.healthSampleS',
  );

const scalarSchema = z.union([z.string().max(1024), z.number(), z.boolean()]);
/** JSON scalars or arrays of scalars (at most 64 elements). */
export const configValueSchema = z.union([scalarSchema, z.array(scalarSchema).max(64)]);
export type ConfigValue = z.infer<typeof configValueSchema>;

export const MAX_CONFIG_KEYS = 256;

/** Key → value; at most MAX_CONFIG_KEYS keys. */
export const configValuesSchema = z
  .record(configKeySchema, configValueSchema)
  .refine((values) => Object.keys(values).length <= MAX_CONFIG_KEYS, `at most ${MAX_CONFIG_KEYS} keys`);
export type ConfigValues = z.infer<typeof configValuesSchema>;

/** How a key takes effect on the device: at once, or at the next start of the agent. */
export const applyModeSchema = z.enum(['live', 'restart']);
export type ApplyMode = z.infer<typeof applyModeSchema>;

const common = { apply: applyModeSchema, description: z.string().max(256).optional() };

/** One key of a device's declared schema. */
export const configKeySpecSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('integer'),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    default: z.number().int(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('number'),
    min: z.number().optional(),
    max: z.number().optional(),
    default: z.number(),
    ...common,
  }),
  z.strictObject({ type: z.literal('boolean'), default: z.boolean(), ...common }),
  z.strictObject({
    type: z.literal('string'),
    maxLength: z.number().int().positive().max(1024).optional(),
    default: z.string().max(1024),
    ...common,
  }),
  z.strictObject({
    type: z.literal('enum'),
    enum: z.array(z.string().min(1).max(64)).min(1).max(64),
    default: z.string(),
    ...common,
  }),
]);
export type ConfigKeySpec = z.infer<typeof configKeySpecSchema>;

/** The settings a device accepts: key → spec. */
export const configSchemaSchema = z
  .record(configKeySchema, configKeySpecSchema)
  .refine((schema) => Object.keys(schema).length <= MAX_CONFIG_KEYS, `at most ${MAX_CONFIG_KEYS} keys`);
export type ConfigSchema = z.infer<typeof configSchemaSchema>;

/**
 * `fl/d/{id}/config/desired`, cloud → device, QoS 1, retained: the FULL effective desired
 * document (not a delta). A key absent from `values` means "use the device's default". Full
 * documents are idempotent and self-contained: a retained message must make sense to a device
 * that reconnects after any number of missed changes, or that lost its state dir.
 */
export const configDesiredSchema = z.strictObject({
  /** Increases with every change of this device's effective document. */
  version: z.number().int().nonnegative(),
  values: configValuesSchema,
});
export type ConfigDesired = z.infer<typeof configDesiredSchema>;

export const configRejectionSchema = z.strictObject({
  key: z.string().max(128),
  reason: z.string().max(512),
});
export type ConfigRejection = z.infer<typeof configRejectionSchema>;

/** `fl/d/{id}/config/reported`, device → cloud, QoS 1: on connect (with `schema`) and after each desired. */
export const configReportedSchema = z.strictObject({
  /** The desired version the device last processed (0: none yet). */
  version: z.number().int().nonnegative(),
  /** The values in effect now (every key of the schema). */
  values: configValuesSchema,
  /** Keys accepted but waiting for the next start of the agent. */
  pendingRestart: z.array(configKeySchema).max(MAX_CONFIG_KEYS).default([]),
  /** Keys of the processed desired document the device refused, each with why. */
  rejected: z.array(configRejectionSchema).max(MAX_CONFIG_KEYS).default([]),
  /** The device's declared schema; sent on every connect. */
  schema: configSchemaSchema.optional(),
});
export type ConfigReported = z.infer<typeof configReportedSchema>;
