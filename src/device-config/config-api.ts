/** Request and response schemas of the configuration API (api/routes/device-config.ts). Pure. */
import { z } from 'zod';
import {
  configKeySchema,
  configRejectionSchema,
  configSchemaSchema,
  configValuesSchema,
  MAX_CONFIG_KEYS,
} from '../contracts/config-messages.ts';
import { groupNameSchema } from '../contracts/device-group.ts';
import { DEVICE_ID_PATTERN } from '../contracts/topics.ts';
import { queryLimits } from '../fleet-query/index.ts';

const versionSchema = z.number().int().nonnegative();

export const configSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fleet') }),
  z.object({ kind: z.literal('group'), name: z.string() }),
  z.object({ kind: z.literal('device') }),
]);

const conflictSchema = configRejectionSchema.extend({ source: configSourceSchema });

/** Keys to set and keys to remove; a key may not be in both. */
const editFields = {
  set: configValuesSchema.default({}),
  unset: z.array(configKeySchema).max(MAX_CONFIG_KEYS).default([]),
};

function checkEdit(edit: { set: Record<string, unknown>; unset: string[] }, ctx: z.RefinementCtx): void {
  for (const key of edit.unset)
    if (Object.hasOwn(edit.set, key))
      ctx.addIssue({ code: 'custom', message: `key ${key} is both set and unset`, path: ['unset'] });
}

export const deviceConfigEditSchema = z
  .strictObject({
    ...editFields,
    /** The desired version read before (0: never set); 409 when it moved on. */
    expectedVersion: versionSchema.optional(),
  })
  .superRefine(checkEdit);
export type DeviceConfigEdit = z.infer<typeof deviceConfigEditSchema>;

export const fleetDefaultsEditSchema = deviceConfigEditSchema;

export const groupDefaultsEditSchema = z
  .strictObject({
    ...editFields,
    /** Higher wins over other groups; equal priorities are ordered by group name (later wins). Default 0. */
    priority: z.number().int().min(-1000).max(1000).optional(),
    expectedVersion: versionSchema.optional(),
  })
  .superRefine(checkEdit);
export type GroupDefaultsEdit = z.infer<typeof groupDefaultsEditSchema>;

export const bulkConfigSchema = z
  .strictObject({
    where: z.string().min(1).max(queryLimits.maxBytes).optional(),
    group: groupNameSchema.optional(),
    deviceIds: z.array(z.string().regex(DEVICE_ID_PATTERN, 'not a device id')).min(1).max(1000).optional(),
    ...editFields,
    /** Count, list and check, change nothing. */
    dryRun: z.boolean().default(false),
  })
  .superRefine((body, ctx) => {
    checkEdit(body, ctx);
    const byQuery = body.where !== undefined || body.group !== undefined;
    if (byQuery === (body.deviceIds !== undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'choose the devices with where and/or group, or with deviceIds (not both)',
        path: ['where'],
      });
    if (Object.keys(body.set).length === 0 && body.unset.length === 0)
      ctx.addIssue({ code: 'custom', message: 'set or unset at least one key', path: ['set'] });
  });
export type BulkConfig = z.infer<typeof bulkConfigSchema>;

export const deviceConflictSchema = configRejectionSchema.extend({ deviceId: z.string() });
export type DeviceConflict = z.infer<typeof deviceConflictSchema>;

export const deviceConfigViewSchema = z.object({
  deviceId: z.string(),
  /** The device's own document (what PUT edits). */
  desired: z.object({ values: configValuesSchema, version: versionSchema, updatedAt: z.string().nullable() }),
  /** Fleet default < group defaults < device document, with each key's source. */
  effective: z.object({
    values: configValuesSchema,
    sources: z.record(z.string(), configSourceSchema),
    /** Merged keys the device's schema refuses: not sent. */
    conflicts: z.array(conflictSchema),
  }),
  /** The effective document last sent to the device (version 0: none yet). */
  sent: z.object({ values: configValuesSchema, version: versionSchema, sentAt: z.string().nullable() }),
  reported: z
    .object({
      version: versionSchema,
      values: configValuesSchema,
      pendingRestart: z.array(z.string()),
      rejected: z.array(configRejectionSchema),
      at: z.string(),
    })
    .nullable(),
  schema: configSchemaSchema.nullable(),
  pendingRestart: z.array(z.string()),
  rejected: z.array(configRejectionSchema),
  /** The device reported the version last sent, with nothing rejected or pending, and nothing new to send. */
  inSync: z.boolean(),
});
export type DeviceConfigView = z.infer<typeof deviceConfigViewSchema>;

export const configDefaultsSchema = z.object({
  scope: z.enum(['fleet', 'group']),
  name: z.string(),
  priority: z.number().int(),
  values: configValuesSchema,
  version: versionSchema,
  updatedAt: z.string(),
});

export const defaultsChangeResultSchema = z.object({
  defaults: configDefaultsSchema.nullable(),
  /** Devices the document applies to (group members, or the fleet). */
  affected: z.number().int(),
  /** Devices of those whose schema refuses a key of it (that key is not sent to them); first 100. */
  conflicts: z.array(deviceConflictSchema),
});
export type DefaultsChangeResult = z.infer<typeof defaultsChangeResultSchema>;

export const bulkResultSchema = z.object({
  dryRun: z.boolean(),
  matched: z.number().int(),
  /** The first matched device ids, at most 20. */
  sample: z.array(z.string()),
  /** Devices whose desired document changed (0 in a dry run). */
  changed: z.number().int(),
  /** Devices left unchanged because their schema refuses the change; first 100 keys. */
  conflicts: z.array(deviceConflictSchema),
  conflictedDevices: z.number().int(),
  /** deviceIds that are unknown or outside the caller's scope. */
  notFound: z.array(z.string()),
});
export type BulkResult = z.infer<typeof bulkResultSchema>;
