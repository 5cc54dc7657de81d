/** A job in words, for the list and the job page. */
import type { z } from 'zod';
import type { jobSchema } from '../../../api/routes/jobs.ts';

export type Job = z.infer<typeof jobSchema>;

/** What a job runs, in words: `reboot`, `command diag.ping`. */
export function operationLabel(spec: Job['spec']): string {
  return spec.operation === 'command' ? `command ${spec.command ?? ''}` : spec.operation;
}

/** Which devices, in words. */
export function targetSummary(target: Job['spec']['target']): string {
  if ('deviceIds' in target) return `${target.deviceIds.length} devices by id`;
  const parts = [];
  if (target.group !== undefined) parts.push(`group ${target.group}`);
  if (target.where !== undefined) parts.push(target.where);
  return parts.join(' and ');
}
