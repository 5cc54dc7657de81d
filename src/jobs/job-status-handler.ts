/**
 * The `jobs/status` handler (GatewayHandlers.jobs): capabilities are stored and trigger delivery
 * of the device's pending executions; progress moves the device's own execution. A report for
 * another device's execution, an older attempt, a duplicate or a final execution changes nothing.
 */
import type { Logger } from 'pino';
import type { JobProgress } from '../contracts/job-messages.ts';
import type { JobStatusHandler } from '../gateway/types.ts';
import type { JobStore } from '../store/job-types.ts';
import { applyExecutionEvent, type TransitionListener } from './execution-events.ts';
import type { JobDispatcher } from './job-dispatcher.ts';
import { createJobSpecCache, type JobSpecCache } from './job-spec-cache.ts';

export function createJobStatusHandler(deps: {
  jobs: JobStore;
  dispatcher: Pick<JobDispatcher, 'deliver'>;
  logger: Logger;
  onTransition?: TransitionListener;
  /** Shared with the dispatcher; one of its own when not given. */
  specs?: JobSpecCache;
}): JobStatusHandler {
  const { jobs, logger } = deps;
  const specs = deps.specs ?? createJobSpecCache(jobs);

  async function progress(deviceId: string, report: JobProgress, atMs: number): Promise<void> {
    const execution = await jobs.getExecution(report.executionId);
    if (execution?.deviceId !== deviceId) {
      logger.warn(
        { deviceId, executionId: report.executionId },
        'job progress for an unknown execution ignored',
      );
      return;
    }
    const spec = await specs.get(execution.jobId);
    if (spec === undefined) return;
    const retry = report.state === 'failed' && execution.attempt <= spec.maxRetries;
    const outcome = {
      ...(report.code !== undefined && { code: report.code }),
      ...(report.message !== undefined && { message: report.message }),
      ...(report.result !== undefined && { result: report.result }),
    };
    const applied = await applyExecutionEvent(
      { jobs, onTransition: deps.onTransition },
      spec,
      execution,
      { kind: 'report', attempt: report.attempt, state: report.state, retry },
      outcome,
      atMs,
    );
    if (!applied.applied)
      logger.debug(
        { deviceId, executionId: execution.id, attempt: report.attempt, reason: applied.reason },
        'job progress ignored',
      );
  }

  return {
    async status(device, status, atMs) {
      if (status.kind === 'capabilities') {
        await jobs.putCapabilities(device.deviceId, status, atMs);
        await deps.dispatcher.deliver(device.deviceId);
        return;
      }
      await progress(device.deviceId, status, atMs);
    },
  };
}
