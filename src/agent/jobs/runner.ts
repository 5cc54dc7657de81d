/**
 * The device's job runner: takes `jobs/notify` messages (already schema-checked by the agent),
 * runs one execution at a time through DeviceActions, and reports on `jobs/status`: capabilities
 * after every connect, then `in-progress` and the outcome of each execution. Every started
 * execution is recorded in the execution book before it runs, so a duplicate notify is answered
 * with the recorded outcome, and a reboot is reported `succeeded` only after the device came back
 * (JobRunner.start on the next boot). Reports that could not be sent wait for the next connect.
 */
import type { JobNotify, JobProgress, JobRun } from '../../contracts/job-messages.ts';
import { jobOperations } from '../../contracts/job-messages.ts';
import { parseOperationParams } from './params.ts';
import { capResult } from './result-caps.ts';
import { ActionRejectedError, type ActionOutcome, type JobLink, type JobRunnerDeps } from './types.ts';

export interface JobRunner {
  /**
   * Loads the execution book and settles what the previous run left behind: a requested reboot
   * succeeded (the device is back), anything else that was running was interrupted. Call before
   * the agent connects, and again after a (simulated) reboot.
   */
  start(): Promise<void>;
  /** The agent's connection: where reports go. */
  attach(link: JobLink): void;
  /** The agent connected and subscribed: sends capabilities, then every report still unsent. */
  onConnected(): void;
  onNotify(notify: JobNotify): void;
  /**
   * A notify that failed the schema. When it names an execution (`executionId`, `attempt`) it is
   * rejected: `unsupported_command` for an operation this agent does not know (a newer server),
   * `bad_params` otherwise, with the schema's reason.
   */
  onInvalidNotify(json: unknown, reason: string): void;
  /** Stops taking executions from the queue (the running one finishes). */
  stop(): void;
  /** Resolves once nothing is queued or running (tests, orderly shutdown). */
  idle(): Promise<void>;
}

const key = (executionId: string, attempt: number) => `${executionId}#${attempt}`;

export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { clock, logger, actions, book } = deps;
  let link: JobLink | undefined;
  let loaded: Promise<void> | undefined;
  let queue: JobRun[] = [];
  let running: JobRun | undefined;
  /** Set once a reboot was asked for: nothing more runs until the next start(). */
  let rebooting = false;
  let stopped = false;
  /** Capabilities went out on the current connection; reports may follow. */
  let sessionReady = false;
  /** The capabilities publish of the current connection while it awaits its PUBACK. */
  let opening: Promise<void> | undefined;
  /** The publish of each report in flight, by execution key. */
  const inFlight = new Map<string, Promise<boolean>>();
  /** Latest report per execution not yet acknowledged by the broker, in send order. */
  const unsent = new Map<string, JobProgress>();
  let idleWaiters: (() => void)[] = [];

  /**
   * Sends now when the session is ready, right after the capabilities when they are on their way,
   * else on the next connect; resolves true on PUBACK.
   */
  function send(progress: JobProgress): Promise<boolean> {
    const k = key(progress.executionId, progress.attempt);
    unsent.delete(k);
    unsent.set(k, progress);
    if (sessionReady) return publishNow(k, progress);
    // The flush after the capabilities' PUBACK (registered first) sends it; this waits for that send.
    if (opening) return opening.then(() => inFlight.get(k) ?? false);
    return Promise.resolve(false);
  }

  function publishNow(k: string, progress: JobProgress): Promise<boolean> {
    if (!link) return Promise.resolve(false);
    const sent = link.publish(progress).then(
      () => {
        if (unsent.get(k) === progress) unsent.delete(k);
        return true;
      },
      (err: unknown) => {
        logger.debug({ err: (err as Error).message, executionId: k }, 'job report not sent');
        return false;
      },
    );
    inFlight.set(k, sent);
    void sent.finally(() => {
      if (inFlight.get(k) === sent) inFlight.delete(k);
    });
    return sent;
  }

  function report(run: JobRun, outcome: Omit<JobProgress, 'kind' | 'executionId' | 'attempt'>): JobProgress {
    const progress: JobProgress = {
      kind: 'progress',
      executionId: run.executionId,
      attempt: run.attempt,
      ...outcome,
    };
    void send(progress);
    return progress;
  }

  /** Records a final outcome (so a duplicate gets the same answer), then reports it. */
  async function conclude(
    run: Pick<JobRun, 'executionId' | 'attempt'>,
    outcome: Omit<JobProgress, 'kind' | 'executionId' | 'attempt'>,
  ) {
    const progress: JobProgress = {
      kind: 'progress',
      executionId: run.executionId,
      attempt: run.attempt,
      ...outcome,
    };
    try {
      await book.put({
        executionId: run.executionId,
        attempt: run.attempt,
        phase: 'done',
        startedAtMs: book.get(run.executionId, run.attempt)?.startedAtMs ?? clock.now(),
        report: progress,
      });
    } catch (err) {
      logger.warn({ executionId: run.executionId, err: (err as Error).message }, 'could not record outcome');
    }
    void send(progress);
  }

  /** Why the device will not run `run`, if it will not. */
  function refusal(run: JobRun): { code: string; message: string } | undefined {
    if (!actions.operations().includes(run.operation)) {
      return { code: 'unsupported_command', message: `this device does not support ${run.operation}` };
    }
    if (run.operation === 'command') {
      if (run.command === undefined) return { code: 'bad_params', message: 'command: is required' };
      if (!actions.commands().some((c) => c.name === run.command)) {
        return { code: 'unsupported_command', message: `no command named ${run.command} is registered` };
      }
    }
    const params = parseOperationParams(run.operation, run.params);
    return params.ok ? undefined : { code: 'bad_params', message: params.reason };
  }

  async function execute(run: JobRun): Promise<void> {
    const isReboot = run.operation === 'reboot';
    await book.put({
      executionId: run.executionId,
      attempt: run.attempt,
      phase: isReboot ? 'reboot-requested' : 'running',
      startedAtMs: clock.now(),
    });
    const before = clock.now();
    // The in-progress report doubles as the self-test's broker round trip (PUBLISH → PUBACK).
    const acked = await send({
      kind: 'progress',
      executionId: run.executionId,
      attempt: run.attempt,
      state: 'in-progress',
    });
    const roundTripMs = acked ? clock.now() - before : undefined;
    if (isReboot) {
      rebooting = true;
      try {
        await actions.reboot();
      } catch (err) {
        rebooting = false;
        await conclude(run, failure(err));
      }
      return; // reported succeeded by start() on the next boot
    }
    let outcome: ActionOutcome;
    try {
      outcome = await perform(run, roundTripMs);
    } catch (err) {
      await conclude(run, failure(err));
      return;
    }
    await conclude(
      run,
      outcome.ok
        ? { state: 'succeeded', ...capResult(outcome.result, outcome.message) }
        : {
            state: 'failed',
            code: outcome.code.slice(0, 64),
            ...capResult(outcome.result, outcome.message),
          },
    );
  }

  function perform(run: JobRun, roundTripMs: number | undefined): Promise<ActionOutcome> {
    switch (run.operation) {
      case 'reboot':
        throw new Error('reboot is not performed here');
      case 'factory-reset': {
        const params = parseOperationParams('factory-reset', run.params);
        return actions.factoryReset({ wipeIdentity: params.ok && params.value.wipeIdentity === true });
      }
      case 'recovery':
        return actions.recovery(run.params);
      case 'logs': {
        const params = parseOperationParams('logs', run.params);
        const maxLines = params.ok ? params.value.maxLines : undefined;
        return actions.logs(run.executionId, maxLines !== undefined ? { maxLines } : {});
      }
      case 'self-test':
        return actions.selfTest({ run, roundTripMs });
      case 'sensors': {
        const params = parseOperationParams('sensors', run.params);
        return actions.sensors(params.ok ? params.value.names : undefined);
      }
      case 'command':
        return actions.command(run.command ?? '', run.params);
    }
  }

  function pump(): void {
    if (running || rebooting || stopped) return;
    const next = queue.shift();
    if (!next) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const waiter of waiters) waiter();
      return;
    }
    running = next;
    execute(next)
      .catch((err: unknown) => {
        logger.error({ executionId: next.executionId, err: (err as Error).message }, 'job execution failed');
      })
      .finally(() => {
        running = undefined;
        pump();
      });
  }

  function onRun(run: JobRun): void {
    const recorded = book.get(run.executionId, run.attempt);
    if (recorded) {
      // A duplicate (redelivery after a reconnect or a reboot): answer, never run twice.
      if (recorded.report) void send(recorded.report);
      else report(run, { state: 'in-progress' });
      return;
    }
    const k = key(run.executionId, run.attempt);
    if (queue.some((q) => key(q.executionId, q.attempt) === k)) return;
    if (running && key(running.executionId, running.attempt) === k) return;
    const refused = refusal(run);
    if (refused) {
      void conclude(run, { state: 'rejected', ...refused });
      return;
    }
    queue.push(run);
    pump();
  }

  return {
    async start() {
      loaded ??= load();
      await loaded;
      loaded = undefined;
      stopped = false;
      pump();
    },
    attach(l) {
      link = l;
    },
    onConnected() {
      sessionReady = false;
      const l = link;
      if (!l) return;
      const capabilities = l.publish({
        kind: 'capabilities',
        operations: actions.operations().filter((op) => jobOperations.includes(op)),
        commands: actions.commands().map((c) => ({
          name: c.name,
          ...(c.description !== undefined ? { description: c.description.slice(0, 256) } : {}),
        })),
      });
      const opened = capabilities.then(
        () => {
          if (opening === opened) opening = undefined;
          if (!l.isConnected()) return;
          sessionReady = true;
          for (const [k, progress] of [...unsent]) void publishNow(k, progress);
        },
        (err: unknown) => {
          if (opening === opened) opening = undefined;
          logger.debug({ err: (err as Error).message }, 'capabilities not sent');
        },
      );
      opening = opened;
    },
    onNotify(notify) {
      if (notify.kind === 'cancel') {
        const before = queue.length;
        queue = queue.filter((run) => run.executionId !== notify.executionId);
        if (queue.length !== before) logger.info({ executionId: notify.executionId }, 'queued job cancelled');
        return;
      }
      onRun(notify);
    },
    onInvalidNotify(json, reason) {
      const named = namedExecution(json);
      if (!named || book.get(named.executionId, named.attempt)) return;
      const known = (jobOperations as readonly unknown[]).includes(named.operation);
      const refused = known
        ? { code: 'bad_params', message: reason.slice(0, 1024) }
        : {
            code: 'unsupported_command',
            message: `this agent does not know the operation ${String(named.operation).slice(0, 64)}`,
          };
      void conclude(named, { state: 'rejected', ...refused });
    },
    stop() {
      stopped = true;
    },
    idle() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };

  /** Settles the previous run's unfinished entries and queues their reports. */
  async function load(): Promise<void> {
    rebooting = false;
    queue = [];
    const { discarded } = await book.load();
    if (discarded) logger.warn({ reason: discarded }, 'starting with an empty execution book');
    for (const entry of book.unfinished()) {
      const progress: JobProgress =
        entry.phase === 'reboot-requested'
          ? {
              kind: 'progress',
              executionId: entry.executionId,
              attempt: entry.attempt,
              state: 'succeeded',
              message: 'the device rebooted and came back',
              result: { rebootRequestedAtMs: entry.startedAtMs, backAtMs: clock.now() },
            }
          : {
              kind: 'progress',
              executionId: entry.executionId,
              attempt: entry.attempt,
              state: 'failed',
              code: 'interrupted',
              message: 'the agent stopped while this execution was running',
            };
      await book.finish(entry.executionId, entry.attempt, progress);
      void send(progress);
    }
  }
}

/** The execution an invalid notify names, if it names one well enough to answer. */
function namedExecution(
  json: unknown,
): { executionId: string; attempt: number; operation: unknown } | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { kind, executionId, attempt, operation } = json as Record<string, unknown>;
  if (
    kind !== 'run' ||
    typeof executionId !== 'string' ||
    executionId.length === 0 ||
    executionId.length > 128
  )
    return undefined;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1 || attempt > 100)
    return undefined;
  return { executionId, attempt, operation };
}

function failure(err: unknown): Omit<JobProgress, 'kind' | 'executionId' | 'attempt'> {
  if (err instanceof ActionRejectedError) {
    return { state: 'rejected', code: err.code.slice(0, 64), message: err.message.slice(0, 1024) };
  }
  return { state: 'failed', code: 'error', message: (err as Error).message.slice(0, 1024) };
}
