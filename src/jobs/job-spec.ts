/**
 * The job specification: what to run (operation, command, params), on which devices (target),
 * and how (schedule, expiry, timeout, retries, rate limit, abort threshold). The single schema
 * for the API body, the CLI and what the store persists; parsing a parsed spec returns it
 * unchanged, so the store re-validates what it reads back. Defaults: docs/jobs.md.
 */
import { z } from 'zod';
import { confirmField } from '../access/confirmation.ts';
import { groupNameSchema } from '../contracts/device-group.ts';
import { commandNameSchema, jobOperations, jobParamsSchema } from '../contracts/job-messages.ts';
import { queryLimits } from '../fleet-query/index.ts';

/** Most devices one job may list by id (a fleet query or group reaches any number). */
export const MAX_TARGET_DEVICE_IDS = 10_000;

export const DEFAULT_TIMEOUT_S = 300;
export const DEFAULT_RETRY_BACKOFF_S = 30;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 1000;
export const DEFAULT_MIN_FINISHED = 10;

/** Which devices: a list of ids, or a fleet query and/or a saved group (both must match). */
export const jobTargetSchema = z.union([
  z.strictObject({
    deviceIds: z
      .array(z.string().min(1).max(128))
      .min(1, 'target.deviceIds needs at least one device id')
      .max(MAX_TARGET_DEVICE_IDS, `target.deviceIds holds at most ${MAX_TARGET_DEVICE_IDS} ids`),
  }),
  z
    .strictObject({
      where: z.string().min(1).max(queryLimits.maxBytes).optional(),
      group: groupNameSchema.optional(),
    })
    .refine((t) => t.where !== undefined || t.group !== undefined, {
      message: 'target needs deviceIds, where or group',
    }),
]);
export type JobTarget = z.infer<typeof jobTargetSchema>;

const ms = z.number().int().nonnegative();

const specShape = {
  operation: z.enum(jobOperations),
  /** For `command`: the name the device registered. */
  command: commandNameSchema.optional(),
  params: jobParamsSchema.default({}),
  target: jobTargetSchema,
  description: z.string().max(1000).optional(),
  /** ms since the epoch; absent = start at once. */
  startAtMs: ms.optional(),
  /** ms since the epoch; executions not yet sent (offline devices) time out as `expired` then. */
  expiresAtMs: ms.optional(),
  /** Seconds one attempt may take before it counts as timed out. */
  timeoutS: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(DEFAULT_TIMEOUT_S),
  /** Further attempts after a timeout or failure (never after `rejected`). */
  maxRetries: z.number().int().min(0).max(10).default(0),
  /** Delay before retry n is `retryBackoffS * 2^(n-1)` seconds. */
  retryBackoffS: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600)
    .default(DEFAULT_RETRY_BACKOFF_S),
  /** Executions sent per minute (first attempts and retries), over the whole job. */
  rateLimitPerMinute: z.number().int().min(1).max(1_000_000).default(DEFAULT_RATE_LIMIT_PER_MINUTE),
  /** Abort when more than this percent of finished executions failed or timed out. */
  abortAfterFailedPercent: z.number().min(0).max(100).optional(),
  /** …once at least this many executions finished. */
  minFinished: z.number().int().min(1).max(1_000_000).default(DEFAULT_MIN_FINISHED),
};

type SpecFields = z.output<z.ZodObject<typeof specShape>>;

/** Rules across fields, reported on the field to fix. */
function checkSpec(spec: SpecFields, ctx: z.RefinementCtx): void {
  if (spec.operation === 'command' && spec.command === undefined)
    ctx.addIssue({ code: 'custom', path: ['command'], message: 'operation command needs a command name' });
  if (spec.operation !== 'command' && spec.command !== undefined)
    ctx.addIssue({ code: 'custom', path: ['command'], message: 'command is only for operation command' });
  if (spec.expiresAtMs !== undefined && spec.expiresAtMs <= (spec.startAtMs ?? 0))
    ctx.addIssue({ code: 'custom', path: ['expiresAtMs'], message: 'expiresAtMs must be after startAtMs' });
}

export const jobSpecSchema = z.strictObject(specShape).superRefine(checkSpec);
export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;

/** The body of `POST /api/v1/jobs`: a spec plus `confirm` (factory reset) and `dryRun`. */
export const jobCreateSchema = z
  .strictObject({
    ...specShape,
    confirm: confirmField,
    dryRun: z.boolean().default(false).describe('Only count and list the devices; nothing is stored'),
  })
  .superRefine(checkSpec);
export type JobCreate = z.output<typeof jobCreateSchema>;

/** Delay before the attempt after `attempt` (1-based), in ms: exponential backoff. */
export function retryDelayMs(spec: Pick<JobSpec, 'retryBackoffS'>, attempt: number): number {
  return spec.retryBackoffS * 1000 * 2 ** Math.max(0, attempt - 1);
}
