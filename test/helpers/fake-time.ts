/** A clock and timers that move only when the test advances them: pacing tested without sleeping. */
import type { Clock } from '../../src/infra/clock.ts';
import type { Timers } from '../../src/infra/timers.ts';

interface Pending {
  dueMs: number;
  callback: () => void;
  /** Set for intervals: re-armed after firing. */
  everyMs?: number;
}

export interface FakeTime {
  clock: Clock;
  timers: Timers;
  /** Moves the clock `ms` forward, firing due timers in order with the clock at their due time. */
  advance(ms: number): void;
  /** Delays (ms from now) of the pending one-shot timers, soonest first. */
  pendingTimeouts(): number[];
}

export function fakeTime(startMs = Date.now()): FakeTime {
  let now = startMs;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const arm = (callback: () => void, ms: number, everyMs?: number): number => {
    const id = nextId++;
    pending.set(id, { dueMs: now + Math.max(0, ms), callback, ...(everyMs !== undefined && { everyMs }) });
    return id;
  };
  const clear = (handle: unknown): void => {
    pending.delete(handle as number);
  };
  return {
    clock: { now: () => now },
    timers: {
      setTimeout: (callback, ms) => arm(callback, ms),
      clearTimeout: clear,
      setInterval: (callback, ms) => arm(callback, ms, Math.max(1, ms)),
      clearInterval: clear,
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let soonest: [number, Pending] | undefined;
        for (const entry of pending) if (!soonest || entry[1].dueMs < soonest[1].dueMs) soonest = entry;
        if (!soonest || soonest[1].dueMs > target) break;
        const [id, timer] = soonest;
        now = timer.dueMs;
        if (timer.everyMs === undefined) pending.delete(id);
        else timer.dueMs += timer.everyMs;
        timer.callback();
      }
      now = target;
    },
    pendingTimeouts() {
      return [...pending.values()]
        .filter((timer) => timer.everyMs === undefined)
        .map((timer) => timer.dueMs - now)
        .sort((a, b) => a - b);
    },
  };
}
