/**
 * Calls the rollout service's `tick` every `tickIntervalMs` on injected timers and clock. A tick
 * that is still running when the next is due is not overlapped; that one is skipped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { RolloutService } from './rollout-service.ts';

export interface RolloutDriverDeps {
  service: Pick<RolloutService, 'tick'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
}

export interface RolloutDriver {
  /** Stops the timer and waits for a tick in flight. */
  stop(): Promise<void>;
}

export function startRolloutDriver(
  deps: RolloutDriverDeps,
  options: { tickIntervalMs: number },
): RolloutDriver {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = deps.service
      .tick(deps.clock.now())
      .catch((err: unknown) => deps.logger.error({ err }, 'rollout tick failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const handle = deps.timers.setInterval(tick, options.tickIntervalMs);
  return {
    async stop() {
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}
