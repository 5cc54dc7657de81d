/**
 * Keeps the online TUF roles fresh: every `checkIntervalMs` (default hourly) it asks the
 * repository to re-sign snapshot and timestamp whose remaining lifetime is under half, so
 * devices never see expired metadata (TUF 5.4.4, 5.5.6) while the server runs.
 */
import type { Logger } from 'pino';
import type { Timers } from '../../infra/timers.ts';

export const DEFAULT_REFRESH_CHECK_MS = 60 * 60 * 1000;

/** True when less than half of `lifetimeMs` is left before `expiresMs` (all in ms). */
export function dueForRefresh(nowMs: number, expiresMs: number, lifetimeMs: number): boolean {
  return expiresMs - nowMs < lifetimeMs / 2;
}

export interface MetadataRefresherDeps {
  timers: Timers;
  logger: Logger;
  refresh(): Promise<void>;
}

/** Starts checking; `stop()` clears the timer and waits for a running check. */
export function startMetadataRefresher(
  deps: MetadataRefresherDeps,
  checkIntervalMs = DEFAULT_REFRESH_CHECK_MS,
): { stop(): Promise<void>; drain(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const check = (): void => {
    running = running
      .then(() => deps.refresh())
      .catch((err: unknown) => deps.logger.error({ err }, 'TUF metadata refresh failed'));
  };
  const handle = deps.timers.setInterval(check, checkIntervalMs);
  check();
  return {
    /** Settles when the check in progress (if any) has finished. */
    drain: () => running,
    async stop() {
      deps.timers.clearInterval(handle);
      await running;
    },
  };
}
