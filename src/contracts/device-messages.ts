/**
 * Schemas of the messages devices exchange with the cloud: the single source of truth.
 * TypeScript types are inferred from them; docs/architecture.md documents them for C firmware.
 * All payloads are UTF-8 JSON objects.
 */
import { z } from 'zod';
import type { DeviceToCloudSuffix } from './topics.ts';
import { renewRequestSchema, type RenewRequest } from './provisioning-messages.ts';
import { telemetryBatchSchema, type TelemetryBatch } from './telemetry-messages.ts';
import { updateStatusSchema, type UpdateStatus } from './update-messages.ts';
import { jobStatusSchema, type JobStatus } from './job-messages.ts';

const shortText = (max: number) => z.string().min(1).max(max);

/** Tags: small key/value labels (`site=berlin`). */
export const tagsSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'tag keys are lower-case [a-z0-9_.-], 1-63 chars'),
    z.string().max(256),
  )
  .refine((tags) => Object.keys(tags).length <= 32, 'at most 32 tags');

/** `fl/d/{id}/state/reported`, QoS 1, sent on every connect and whenever a field changes. */
export const stateReportedSchema = z.strictObject({
  /** Reports with a lower or equal seq than the last one stored are ignored (reordering, replays). */
  seq: z.number().int().nonnegative(),
  firmwareVersion: shortText(64),
  hardware: z.strictObject({ model: shortText(64), revision: shortText(32) }),
  serial: shortText(128),
  uptimeS: z.number().int().nonnegative(),
  region: shortText(64).optional(),
  tags: tagsSchema.optional(),
});
export type StateReported = z.infer<typeof stateReportedSchema>;

/** `fl/d/{id}/heartbeat`, QoS 0, every `heartbeatIntervalS` while connected. */
export const heartbeatSchema = z.strictObject({
  uptimeS: z.number().int().nonnegative(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** `fl/d/{id}/rejected`, QoS 1, cloud → device: why a message from the device was refused. */
export const rejectedSchema = z.strictObject({
  topic: z.string(),
  code: z.enum(['malformed_payload', 'payload_too_large', 'unknown_topic']),
  message: z.string(),
});
export type Rejected = z.infer<typeof rejectedSchema>;

/** The schema for each device → cloud topic suffix. */
export const deviceToCloudSchemas = {
  'state/reported': stateReportedSchema,
  heartbeat: heartbeatSchema,
  'certificate/renew': renewRequestSchema,
  'update/status': updateStatusSchema,
  telemetry: telemetryBatchSchema,
  'jobs/status': jobStatusSchema,
} as const satisfies Record<DeviceToCloudSuffix, z.ZodType>;

export type DeviceToCloudMessage =
  | { suffix: 'state/reported'; payload: StateReported }
  | { suffix: 'heartbeat'; payload: Heartbeat }
  | { suffix: 'certificate/renew'; payload: RenewRequest }
  | { suffix: 'update/status'; payload: UpdateStatus }
  | { suffix: 'telemetry'; payload: TelemetryBatch }
  | { suffix: 'jobs/status'; payload: JobStatus };

/** The messages the registry applies (renewals go to provisioning, update statuses to deployments). */
export type RegistryMessage = Exclude<
  DeviceToCloudMessage,
  { suffix: 'certificate/renew' | 'update/status' | 'telemetry' | 'jobs/status' }
>;
