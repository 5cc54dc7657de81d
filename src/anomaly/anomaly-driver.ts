/**
 * Runs an anomaly evaluation every `intervalMs` on injected timers and clock. An evaluation still
 * running when the next is due is not overlapped; that one is skipped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../infra/clock.ts';
import type { Timers } from '../infra/timers.ts';
import type { AnomalyEvaluator } from './anomaly-evaluator.ts';

export interface AnomalyDriverDeps {
  evaluator: AnomalyEvaluator;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Called with each evaluation's duration in seconds (by the injected clock). */
  onEvaluated?: (seconds: number) => void;
}

export interface AnomalyDriver {
  /** Stops the timer and waits for an evaluation in flight. */
  stop(): Promise<void>;
}

export function startAnomalyDriver(deps: AnomalyDriverDeps, options: { intervalMs: number }): AnomalyDriver {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    const startMs = deps.clock.now();
    running = deps.evaluator
      .evaluate(startMs)
      .then(() => deps.onEvaluated?.((deps.clock.now() - startMs) / 1000))
      .catch((err: unknown) => deps.logger.error({ err }, 'anomaly evaluation failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const handle = deps.timers.setInterval(tick, options.intervalMs);
  return {
    async stop() {
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}
