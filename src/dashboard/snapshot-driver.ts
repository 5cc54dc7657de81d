/**
 * Takes a whole-fleet snapshot for the dashboard's trends at start and every `intervalMs` (config
 * `dashboard.snapshotIntervalS`) on injected timers, and deletes snapshots older than `retentionMs`
 * (`dashboard.snapshotRetentionDays`) in the same step. A step still running when the next is due
 * is not overlapped; that one is skipped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../infra/clock.ts';
import type { Timers } from '../infra/timers.ts';
import type { DashboardStore } from '../store/dashboard-types.ts';
import type { OverviewService } from './overview-service.ts';

export interface SnapshotDriverDeps {
  overview: Pick<OverviewService, 'snapshot'>;
  store: Pick<DashboardStore, 'insertSnapshot' | 'deleteSnapshotsBefore'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
}

export interface SnapshotDriver {
  /** Stops the timer and waits for a step in flight. */
  stop(): Promise<void>;
}

export function startSnapshotDriver(
  deps: SnapshotDriverDeps,
  options: { intervalMs: number; retentionMs: number },
): SnapshotDriver {
  let running: Promise<void> | undefined;
  const step = async (): Promise<void> => {
    await deps.store.insertSnapshot(await deps.overview.snapshot());
    const deleted = await deps.store.deleteSnapshotsBefore(deps.clock.now() - options.retentionMs);
    if (deleted > 0) deps.logger.debug({ deleted }, 'deleted expired dashboard snapshots');
  };
  const tick = (): void => {
    if (running !== undefined) return;
    running = step()
      .catch((err: unknown) => deps.logger.error({ err }, 'dashboard snapshot failed'))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const handle = deps.timers.setInterval(tick, options.intervalMs);
  return {
    async stop() {
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}
