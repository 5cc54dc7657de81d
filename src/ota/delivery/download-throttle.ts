/**
 * Paces a download stream by token buckets (the shared bandwidth limit and a per-download cap).
 * Chunks are cut into slices of at most one TLS record; each slice is reserved in every bucket
 * and pushed once the longest wait is over. Backpressure holds: a Transform does not take the next
 * chunk while its readable side is full, so a slow client reserves nothing. Destroying the stream
 * (client disconnect) cancels the pending timer and returns the unsent reservation.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Timers } from '../../infra/timers.ts';
import type { TokenBucket } from './token-bucket.ts';

/** Largest slice reserved at once: one TLS record's plaintext (RFC 8446 §5.1), in bytes. */
export const THROTTLE_SLICE_BYTES = 16 * 1024;

export interface ThrottleDeps {
  timers: Timers;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is cleared). */
function sleep(timers: Timers, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve(false);
    };
    const handle = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class ThrottleStream extends Transform {
  readonly #buckets: readonly TokenBucket[];
  readonly #timers: Timers;
  readonly #abort = new AbortController();

  constructor(buckets: readonly TokenBucket[], deps: ThrottleDeps) {
    super({ highWaterMark: THROTTLE_SLICE_BYTES });
    this.#buckets = buckets;
    this.#timers = deps.timers;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pace(chunk).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#abort.abort();
    callback(error);
  }

  async #pace(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; offset += THROTTLE_SLICE_BYTES) {
      const slice = chunk.subarray(offset, offset + THROTTLE_SLICE_BYTES);
      const waitMs = Math.max(0, ...this.#buckets.map((bucket) => bucket.reserve(slice.length)));
      const sent = waitMs === 0 || (await sleep(this.#timers, waitMs, this.#abort.signal));
      if (!sent || this.destroyed) {
        for (const bucket of this.#buckets) bucket.release(slice.length);
        return;
      }
      this.push(slice);
    }
  }
}
