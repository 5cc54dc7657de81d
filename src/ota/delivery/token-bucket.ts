/**
 * A token bucket counted in bytes, for the download bandwidth limit. Pure: time comes from the
 * injected clock. Callers reserve before sending and wait the answer; the bucket may go into debt,
 * so reservations are served in the order they were made (fair between downloads) and a reservation
 * larger than the burst still passes, at the average rate.
 */
import type { Clock } from '../../infra/clock.ts';

export interface TokenBucketOptions {
  /** Refill rate, bytes per second (> 0). */
  bytesPerS: number;
  /** Most bytes an idle bucket lets through at once; default one second's worth. */
  burstBytes?: number;
}

export class TokenBucket {
  readonly #bytesPerMs: number;
  readonly #burstBytes: number;
  readonly #clock: Clock;
  #tokens: number;
  #lastMs: number;

  constructor(options: TokenBucketOptions, clock: Clock) {
    if (!(options.bytesPerS > 0)) throw new RangeError('bytesPerS must be positive');
    this.#bytesPerMs = options.bytesPerS / 1000;
    this.#burstBytes = options.burstBytes ?? options.bytesPerS;
    this.#clock = clock;
    this.#tokens = this.#burstBytes;
    this.#lastMs = clock.now();
  }

  /** Bytes that may be sent now without waiting (negative while in debt). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Reserves `bytes`; returns how long to wait before sending them, in ms (0: send now). */
  reserve(bytes: number): number {
    this.#refill();
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens / this.#bytesPerMs);
  }

  /** Returns a reservation that will not be sent (the client went away while waiting). */
  release(bytes: number): void {
    this.#refill();
    this.#tokens = Math.min(this.#burstBytes, this.#tokens + bytes);
  }

  #refill(): void {
    const now = this.#clock.now();
    // A clock stepping backwards adds nothing rather than taking tokens away.
    const elapsedMs = Math.max(0, now - this.#lastMs);
    this.#lastMs = Math.max(this.#lastMs, now);
    this.#tokens = Math.min(this.#burstBytes, this.#tokens + elapsedMs * this.#bytesPerMs);
  }
}
