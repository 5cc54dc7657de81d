/**
 * Failed-login throttling, per user name and per source address: after `freeFailures` failures in
 * a row a key is locked for a delay that doubles with every further failure (capped). A success
 * clears the user's key. Kept in memory per server process (a restart forgets it); time comes from
 * the injected clock.
 */
import type { Clock } from '../infra/clock.ts';

export interface ThrottleLimits {
  /** Failures allowed before the first lock. */
  freeFailures: number;
  /** The first lock, in ms; each further failure doubles it. */
  baseLockMs: number;
  maxLockMs: number;
  /** Keys tracked at most; the oldest unlocked ones are forgotten past it. */
  maxKeys: number;
}

export const userThrottleLimits: ThrottleLimits = {
  freeFailures: 5,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
  maxKeys: 10_000,
};

/** A source may try several users: it gets more failures before it is locked. */
export const sourceThrottleLimits: ThrottleLimits = { ...userThrottleLimits, freeFailures: 20 };

interface Entry {
  failures: number;
  lockedUntilMs: number;
}

export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #limits: ThrottleLimits;

  constructor(clock: Clock, limits: ThrottleLimits) {
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const entry = this.#entries.get(key);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntilMs - this.#clock.now());
  }

  /** Counts a failure; returns the lock it started in ms (0 when none). */
  fail(key: string): number {
    const entry = this.#entries.get(key) ?? { failures: 0, lockedUntilMs: 0 };
    entry.failures += 1;
    this.#entries.delete(key); // re-insert: the map's order is least recently failed first
    this.#entries.set(key, entry);
    this.#prune();
    const over = entry.failures - this.#limits.freeFailures;
    if (over < 0) return 0;
    const lockMs = Math.min(this.#limits.maxLockMs, this.#limits.baseLockMs * 2 ** Math.min(over, 30));
    entry.lockedUntilMs = this.#clock.now() + lockMs;
    return lockMs;
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  #prune(): void {
    if (this.#entries.size <= this.#limits.maxKeys) return;
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxKeys) return;
      if (entry.lockedUntilMs <= now) this.#entries.delete(key);
    }
  }
}
