/**
 * Schemas of the remote-job messages between the cloud and a device: the single source of truth for
 * the server (jobs), the agent and simulator (job runner) and docs/architecture.md.
 *
 *   fl/d/{id}/jobs/notify   cloud → device, QoS 1   JobNotify     (one execution to run, or cancel)
 *   fl/d/{id}/jobs/status   device → cloud, QoS 1   JobStatus     (capabilities, progress, result)
 *   PUT /device/v1/jobs/{executionId}/logs          gzip log bundle (logs operation), size-capped
 *
 * A device may only receive its own executions (topic ACL, certificate identity). Executions are
 * idempotent on the device: it remembers `executionId` + `attempt` it has started, so a duplicate
 * notify after a reconnect or a reboot is answered with the recorded outcome instead of running again.
 */
import { z } from 'zod';

/** The built-in operations; `command` runs a custom command the device registered. */
export const jobOperations = [
  'reboot',
  'factory-reset',
  'recovery',
  'logs',
  'self-test',
  'sensors',
  'command',
] as const;
export type JobOperation = (typeof jobOperations)[number];

const id = z.string().min(1).max(128);
/** Custom command names: what a device may register. */
export const commandNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,63}$/, 'a command name: lower-case letters, digits, . _ -, up to 64');

/** JSON parameters of an operation or command (an object, at most 8 KiB when serialised). */
export const jobParamsSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 8192, 'params must be at most 8 KiB of JSON');

/** One execution the device should run now. */
export const jobRunSchema = z.strictObject({
  kind: z.literal('run'),
  executionId: id,
  jobId: id,
  /** 1 for the first try; a retry after a failure or timeout sends the next number. */
  attempt: z.number().int().min(1).max(100),
  operation: z.enum(jobOperations),
  /** For `command`: the registered command's name. */
  command: commandNameSchema.optional(),
  params: jobParamsSchema,
  /** ms since the epoch after which the server counts the attempt as timed out. */
  deadlineMs: z.number().int().nonnegative(),
});
export type JobRun = z.infer<typeof jobRunSchema>;

/** The server cancelled an execution the device may have queued (not one already running). */
export const jobCancelSchema = z.strictObject({
  kind: z.literal('cancel'),
  executionId: id,
});

export const jobNotifySchema = z.discriminatedUnion('kind', [jobRunSchema, jobCancelSchema]);
export type JobNotify = z.infer<typeof jobNotifySchema>;

/** What the device can do: sent after every connect, before any progress. */
export const jobCapabilitiesSchema = z.strictObject({
  kind: z.literal('capabilities'),
  operations: z.array(z.enum(jobOperations)).max(jobOperations.length),
  commands: z
    .array(
      z.strictObject({
        name: commandNameSchema,
        description: z.string().max(256).optional(),
      }),
    )
    .max(64),
});
export type JobCapabilities = z.infer<typeof jobCapabilitiesSchema>;

export const executionReportStates = ['in-progress', 'succeeded', 'failed', 'rejected'] as const;

/** Progress or outcome of one attempt. `rejected`: the device will not run it (unsupported, bad params). */
export const jobProgressSchema = z.strictObject({
  kind: z.literal('progress'),
  executionId: id,
  attempt: z.number().int().min(1).max(100),
  state: z.enum(executionReportStates),
  /** Machine-readable reason for failed/rejected, e.g. `unsupported_command`, `bad_params`. */
  code: z.string().max(64).optional(),
  /** Human-readable detail. */
  message: z.string().max(1024).optional(),
  /** Operation output (self-test checks, sensor values, command output), at most 16 KiB as JSON. */
  result: z
    .record(z.string(), z.unknown())
    .refine((value) => JSON.stringify(value).length <= 16384, 'result must be at most 16 KiB of JSON')
    .optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobStatusSchema = z.discriminatedUnion('kind', [jobCapabilitiesSchema, jobProgressSchema]);
export type JobStatus = z.infer<typeof jobStatusSchema>;

/** Largest accepted log bundle (gzip), in bytes; the agent truncates oldest lines to fit. */
export const MAX_LOG_BUNDLE_BYTES = 2 * 1024 * 1024;
