/** What the server sends a device for an execution, and whether the device can run it. Pure. */
import type { JobCapabilities, JobNotify, JobRun } from '../contracts/job-messages.ts';
import type { ExecutionRecord } from '../store/job-types.ts';
import type { JobSpec } from './job-spec.ts';

/** The `run` message of the execution's current attempt (it must have been sent). */
export function runMessage(jobId: string, spec: JobSpec, execution: ExecutionRecord): JobRun {
  return {
    kind: 'run',
    executionId: execution.id,
    jobId,
    attempt: execution.attempt,
    operation: spec.operation,
    ...(spec.command !== undefined && { command: spec.command }),
    params: spec.params,
    deadlineMs: execution.deadlineMs ?? 0,
  };
}

export const cancelMessage = (executionId: string): JobNotify => ({ kind: 'cancel', executionId });

/**
 * Why a device that reported `capabilities` cannot run the job (code and message), or undefined
 * when it can or has not reported yet (then the device itself rejects what it cannot run).
 */
export function unsupportedReason(
  spec: Pick<JobSpec, 'operation' | 'command'>,
  capabilities: JobCapabilities | undefined,
): { code: string; message: string } | undefined {
  if (capabilities === undefined) return undefined;
  if (spec.operation === 'command' && !capabilities.commands.some((c) => c.name === spec.command)) {
    const known = capabilities.commands.map((c) => c.name).join(', ') || 'none';
    return {
      code: 'unsupported_command',
      message: `the device did not register command ${spec.command ?? ''} (registered: ${known})`,
    };
  }
  if (!capabilities.operations.includes(spec.operation)) {
    return {
      code: 'unsupported_operation',
      message: `the device does not support operation ${spec.operation} (it supports: ${capabilities.operations.join(', ') || 'none'})`,
    };
  }
  return undefined;
}
