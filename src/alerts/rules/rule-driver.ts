/**
 * Runs the alert-rule cycle every `intervalMs` (config `alerts.evaluationIntervalS`) on injected
 * timers. A cycle still running when the next is due is not overlapped; that one is skipped.
 */
import type { Logger } from 'pino';
import type { Timers } from '../../infra/timers.ts';
import type { RuleCycle } from './rule-cycle.ts';

export interface RuleDriver {
  /** Stops the timer and waits for a cycle in flight. */
  stop(): Promise<void>;
}

export function startRuleDriver(
  deps: { cycle: Pick<RuleCycle, 'run'>; timers: Timers; logger: Logger },
  options: { intervalMs: number },
): RuleDriver {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = deps.cycle
      .run()
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.error({ err }, 'alert rule cycle failed'))
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
