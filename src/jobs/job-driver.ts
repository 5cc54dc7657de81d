/**
 * Runs the job dispatcher's tick every `tickIntervalMs` on injected timers, like the rollout and
 * rule drivers. A tick still running when the next is due is not overlapped; that one is skipped.
 */
import type { Logger } from 'pino';
import type { Timers } from '../infra/timers.ts';
import type { JobDispatcher } from './job-dispatcher.ts';

export interface JobDriver {
  /** Runs one tick now (after one in flight), e.g. right after a job was created. */
  poke(): Promise<void>;
  /** Stops the timer and waits for a tick in flight. */
  stop(): Promise<void>;
}

export function startJobDriver(
  deps: { dispatcher: Pick<JobDispatcher, 'tick'>; timers: Timers; logger: Logger },
  options: { tickIntervalMs: number },
): JobDriver {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = (): Promise<void> => {
    running ??= deps.dispatcher
      .tick()
      .catch((err: unknown) => deps.logger.error({ err }, 'job tick failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const handle = deps.timers.setInterval(() => {
    if (!stopped) void run();
  }, options.tickIntervalMs);
  return {
    async poke() {
      if (running !== undefined) await running;
      if (!stopped) await run();
    },
    async stop() {
      stopped = true;
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}
