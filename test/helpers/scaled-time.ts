/**
 * A clock that runs `speed` times as fast as the wall clock from a chosen start, and timers that
 * wait accordingly: a simulated day in about a minute, with real sockets and processes in between
 * (fake-time.ts cannot drive those). The speed can change; timers armed before a change keep the
 * wall-clock delay they were given.
 */
import type { Clock } from '../../src/infra/clock.ts';
import type { Timers } from '../../src/infra/timers.ts';
import { systemTimers } from '../../src/infra/timers.ts';

export interface ScaledTime {
  clock: Clock;
  timers: Timers;
  /** From now on one wall-clock ms is `speed` ms of this clock. */
  setSpeed(speed: number): void;
}

export function scaledTime(startMs: number, speed: number): ScaledTime {
  let baseMs = startMs;
  let wallBaseMs = Date.now();
  let current = speed;
  const now = (): number => baseMs + (Date.now() - wallBaseMs) * current;
  const wall = (ms: number): number => Math.max(0, ms) / current;
  return {
    clock: { now },
    timers: {
      setTimeout: (callback, ms) => systemTimers.setTimeout(callback, wall(ms)),
      clearTimeout: (handle) => systemTimers.clearTimeout(handle),
      setInterval: (callback, ms) => systemTimers.setInterval(callback, Math.max(1, wall(ms))),
      clearInterval: (handle) => systemTimers.clearInterval(handle),
    },
    setSpeed(next) {
      baseMs = now();
      wallBaseMs = Date.now();
      current = next;
    },
  };
}
