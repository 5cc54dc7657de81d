/** Parameters of each built-in operation, validated on the device before anything runs. Pure. */
import { z } from 'zod';
import type { JobOperation } from '../../contracts/job-messages.ts';

/** Largest number of log lines a bundle may be asked for. */
export const MAX_LOG_LINES = 200_000;

export const operationParamSchemas = {
  reboot: z.object({}),
  'factory-reset': z.object({
    /** Also delete the device certificate and key (the device must be provisioned again). */
    wipeIdentity: z.boolean().optional(),
  }),
  recovery: z.object({ reason: z.string().max(256).optional() }),
  logs: z.object({ maxLines: z.number().int().min(1).max(MAX_LOG_LINES).optional() }),
  'self-test': z.object({}),
  sensors: z.object({ names: z.array(z.string().min(1).max(64)).min(1).max(64).optional() }),
  command: z.record(z.string(), z.unknown()),
} as const satisfies Record<JobOperation, z.ZodType>;

export type OperationParams = { [K in JobOperation]: z.output<(typeof operationParamSchemas)[K]> };

/** The params of `operation`, or a message naming each bad field. */
export function parseOperationParams<K extends JobOperation>(
  operation: K,
  params: Record<string, unknown>,
): { ok: true; value: OperationParams[K] } | { ok: false; reason: string } {
  const result = operationParamSchemas[operation].safeParse(params);
  if (result.success) return { ok: true, value: result.data as OperationParams[K] };
  const reason = result.error.issues
    .map((i) => `params.${i.path.map(String).join('.') || '(object)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason };
}
