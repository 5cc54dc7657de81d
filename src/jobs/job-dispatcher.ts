/**
 * The job dispatcher: one `tick` moves every active job forward — starts due scheduled jobs,
 * expires what offline devices never took, times out overdue attempts (retry or timed-out),
 * aborts on the failure threshold, sends queued executions of online devices within the rate
 * limit, and completes finished jobs. `deliver` sends a device its pending executions at once (on
 * connect and when it reports capabilities). All state is in the store: a new dispatcher on the
 * same store continues where another stopped.
 */
import type { Logger } from 'pino';
import type { JobNotify } from '../contracts/job-messages.ts';
import type { Clock } from '../infra/clock.ts';
import type { ExecutionRecord, JobRecord, JobStore } from '../store/job-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import { applyExecutionEvent, type EventOutcome, type TransitionListener } from './execution-events.ts';
import { cancelMessage, runMessage, unsupportedReason } from './job-notify.ts';
import { createJobSpecCache, type JobSpecCache } from './job-spec-cache.ts';
import {
  abortThresholdReached,
  allExecutionsFinished,
  nextJobState,
  pendingExecutionStates,
  type ExecutionEvent,
} from './job-states.ts';

/** Executions read per store query inside a tick. */
const BATCH = 1000;
const MINUTE_MS = 60_000;
/** Audit actor of what the dispatcher decides itself (abort). */
export const JOB_SYSTEM_ACTOR = 'system:jobs';

export interface JobDispatcherDeps {
  jobs: JobStore;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /** Publishes on the device's `jobs/notify` (QoS 1, not retained); rejects when it could not. */
  publish(deviceId: string, notify: JobNotify): Promise<void>;
  onTransition?: TransitionListener;
  /** Shared with the status handler; one of its own when not given. */
  specs?: JobSpecCache;
}

/** What sending an execution needs of its job (id and the immutable spec). */
type JobRef = Pick<JobRecord, 'id' | 'spec'>;

export interface JobDispatcher {
  /** One pass over every active job. */
  tick(): Promise<void>;
  /** Sends the device its queued (within the rate limit) and sent executions now. */
  deliver(deviceId: string): Promise<void>;
  /** Cancels (operator) or aborts (threshold) a job: its queued and sent executions are cancelled. */
  stop(
    job: JobRecord,
    to: 'cancelled' | 'aborted',
    reason: string,
    actor: string,
    source: string,
  ): Promise<boolean>;
}

export function createJobDispatcher(deps: JobDispatcherDeps): JobDispatcher {
  const { jobs, clock, logger } = deps;
  const specs = deps.specs ?? createJobSpecCache(jobs);

  const apply = (
    job: JobRef,
    execution: ExecutionRecord,
    event: ExecutionEvent,
    outcome: EventOutcome,
    nowMs: number,
  ) =>
    applyExecutionEvent(
      { jobs, onTransition: deps.onTransition },
      job.spec,
      execution,
      event,
      outcome,
      nowMs,
    );

  function publish(deviceId: string, notify: JobNotify): Promise<boolean> {
    return deps.publish(deviceId, notify).then(
      () => true,
      (err: unknown) => {
        // The attempt stays `sent`: a reconnect re-sends it, its deadline retries it.
        logger.warn({ err, deviceId, kind: notify.kind }, 'could not publish a job notify');
        return false;
      },
    );
  }

  /** Sends one queued execution: fails it at once when the device cannot run it. */
  async function sendQueued(job: JobRef, execution: ExecutionRecord, nowMs: number): Promise<boolean> {
    const capabilities = (await jobs.getCapabilities([execution.deviceId])).get(execution.deviceId);
    return sendWith(job, execution, capabilities, nowMs);
  }

  async function sendWith(
    job: JobRef,
    execution: ExecutionRecord,
    capabilities: Parameters<typeof unsupportedReason>[1],
    nowMs: number,
  ): Promise<boolean> {
    const unsupported = unsupportedReason(job.spec, capabilities);
    if (unsupported !== undefined) {
      await apply(job, execution, { kind: 'unsupported' }, unsupported, nowMs);
      return false;
    }
    // Stored as sent before the message goes out.
    const sent = await apply(job, execution, { kind: 'send' }, {}, nowMs);
    if (!sent.applied) return false;
    await publish(execution.deviceId, runMessage(job.id, job.spec, sent.execution));
    return true;
  }

  async function sendWithinRateLimit(job: JobRecord, nowMs: number): Promise<void> {
    let budget = job.spec.rateLimitPerMinute - (await jobs.countSentSince(job.id, nowMs - MINUTE_MS + 1));
    while (budget > 0) {
      const batch = await jobs.sendableExecutions(job.id, nowMs, Math.min(budget, BATCH));
      if (batch.length === 0) return;
      const capabilities = await jobs.getCapabilities(batch.map((e) => e.deviceId));
      for (const execution of batch) {
        if (await sendWith(job, execution, capabilities.get(execution.deviceId), nowMs)) budget -= 1;
      }
      if (batch.length < BATCH) return;
    }
  }

  /** At start: executions of devices whose known capabilities lack the job's operation fail at once, online or not. */
  async function failUnsupported(job: JobRecord, nowMs: number): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await jobs.listExecutions(job.id, { state: 'queued' }, { limit: BATCH, cursor });
      const capabilities = await jobs.getCapabilities(page.items.map((e) => e.deviceId));
      for (const execution of page.items) {
        const unsupported = unsupportedReason(job.spec, capabilities.get(execution.deviceId));
        if (unsupported !== undefined)
          await apply(job, execution, { kind: 'unsupported' }, unsupported, nowMs);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  async function timeOutOverdue(job: JobRecord, nowMs: number): Promise<void> {
    for (;;) {
      const overdue = await jobs.overdueExecutions(job.id, nowMs, BATCH);
      for (const execution of overdue) {
        const retry = execution.attempt <= job.spec.maxRetries;
        await apply(
          job,
          execution,
          { kind: 'timeout', retry },
          {
            code: 'timeout',
            message: `attempt ${execution.attempt} got no result within ${job.spec.timeoutS} s`,
          },
          nowMs,
        );
      }
      if (overdue.length < BATCH) return;
    }
  }

  async function expire(job: JobRecord, nowMs: number): Promise<void> {
    const expiresAtMs = job.spec.expiresAtMs;
    if (expiresAtMs === undefined || nowMs < expiresAtMs) return;
    const moved = await jobs.finishExecutions(
      job.id,
      pendingExecutionStates,
      'timed-out',
      {
        code: 'expired',
        message: `the device did not take the job before it expired at ${new Date(expiresAtMs).toISOString()}`,
      },
      nowMs,
    );
    for (const execution of moved) {
      deps.onTransition?.(job.spec.operation, 'timed-out');
      if (execution.state === 'sent') await publish(execution.deviceId, cancelMessage(execution.id));
    }
  }

  async function stop(
    job: JobRecord,
    to: 'cancelled' | 'aborted',
    reason: string,
    actor: string,
    source: string,
  ): Promise<boolean> {
    const nowMs = clock.now();
    if (nextJobState(job.state, to === 'cancelled' ? 'cancel' : 'abort') === undefined) return false;
    if (!(await jobs.updateJobState(job.id, job.state, to, reason, nowMs))) return false;
    const code = to === 'cancelled' ? 'job_cancelled' : 'job_aborted';
    const moved = await jobs.finishExecutions(
      job.id,
      pendingExecutionStates,
      'cancelled',
      { code, message: reason },
      nowMs,
    );
    for (const execution of moved) {
      deps.onTransition?.(job.spec.operation, 'cancelled');
      if (execution.state === 'sent') await publish(execution.deviceId, cancelMessage(execution.id));
    }
    await deps.audit.appendAudit({
      actor,
      action: to === 'cancelled' ? 'job.cancelled' : 'job.aborted',
      target: job.id,
      source,
      details: { reason, operation: job.spec.operation, executionsCancelled: moved.length },
      atMs: nowMs,
    });
    logger.info({ jobId: job.id, state: to, reason, executionsCancelled: moved.length }, `job ${to}`);
    return true;
  }

  async function tickJob(stored: JobRecord): Promise<void> {
    const nowMs = clock.now();
    let job = stored;
    if (job.state === 'scheduled') {
      if ((job.spec.startAtMs ?? 0) > nowMs) return;
      if (!(await jobs.updateJobState(job.id, 'scheduled', 'in-progress', null, nowMs))) return;
      job = { ...job, state: 'in-progress', startedAtMs: nowMs };
      logger.info({ jobId: job.id, devices: job.deviceCount }, 'job started');
      await failUnsupported(job, nowMs);
    }
    await expire(job, nowMs);
    await timeOutOverdue(job, nowMs);
    const counts = await jobs.countExecutions(job.id);
    if (abortThresholdReached(counts, job.spec)) {
      const bad = (counts.failed ?? 0) + (counts['timed-out'] ?? 0);
      const finished = bad + (counts.succeeded ?? 0);
      const reason = `${bad} of ${finished} finished executions failed or timed out (more than ${job.spec.abortAfterFailedPercent ?? 0}%)`;
      await stop(job, 'aborted', reason, JOB_SYSTEM_ACTOR, 'local');
      return;
    }
    await sendWithinRateLimit(job, nowMs);
    if (allExecutionsFinished(await jobs.countExecutions(job.id)))
      if (await jobs.updateJobState(job.id, 'in-progress', 'completed', null, nowMs))
        logger.info({ jobId: job.id }, 'job completed');
  }

  return {
    async tick() {
      for (const job of await jobs.listActiveJobs()) {
        try {
          await tickJob(job);
        } catch (err) {
          // One broken job must not stall the others.
          logger.error({ err, jobId: job.id }, 'job tick failed');
        }
      }
    },

    async deliver(deviceId) {
      const nowMs = clock.now();
      // Only executions of in-progress jobs come back; the spec is all the job adds.
      for (const execution of await jobs.pendingExecutionsOfDevice(deviceId)) {
        const spec = await specs.get(execution.jobId);
        if (spec === undefined) continue;
        const job: JobRef = { id: execution.jobId, spec };
        if (execution.state === 'sent') {
          // The device may have missed it while offline; it answers a duplicate from its record.
          await publish(deviceId, runMessage(job.id, job.spec, execution));
          continue;
        }
        if (execution.notBeforeMs !== null && execution.notBeforeMs > nowMs) continue;
        const sentLastMinute = await jobs.countSentSince(job.id, nowMs - MINUTE_MS + 1);
        if (sentLastMinute >= job.spec.rateLimitPerMinute) continue;
        await sendQueued(job, execution, nowMs);
      }
    },

    stop,
  };
}
