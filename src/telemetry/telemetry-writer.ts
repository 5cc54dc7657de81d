/**
 * Group commit for telemetry: batches from many devices are coalesced into one store transaction
 * (flushed when `maxBatchesPerWrite` are waiting, or `flushIntervalMs` after the first one when
 * idle; while a transaction runs the next one fills up). Each caller's promise settles after the
 * transaction holding its batch commits, so the gateway acknowledges only stored data.
 *
 * Backpressure: at most `queueBatches` are waiting or being written. Past it `write()` waits for
 * room (first come, first served) — the PUBACK or HTTP response is delayed, which slows the
 * producer. Nothing is ever dropped.
 *
 * One bad batch must not fail the others: when a multi-batch transaction fails with anything but
 * an unavailable database, each batch is retried in its own transaction.
 */
import type { Logger } from 'pino';
import type { Clock } from '../infra/clock.ts';
import { UnavailableError } from '../infra/errors.ts';
import type { Timers } from '../infra/timers.ts';
import type { BatchToStore, TelemetryStore, WriteOutcome } from '../store/telemetry-types.ts';
import type { TelemetryMetrics } from './telemetry-metrics.ts';

export interface TelemetryWriterOptions {
  maxBatchesPerWrite: number;
  flushIntervalMs: number;
  queueBatches: number;
}

export interface TelemetryWriterDeps {
  store: Pick<TelemetryStore, 'writeBatches'>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  metrics?: TelemetryMetrics;
}

interface Pending {
  batch: BatchToStore;
  resolve(outcome: WriteOutcome): void;
  reject(error: unknown): void;
}

export class TelemetryWriter {
  readonly #deps: TelemetryWriterDeps;
  readonly #options: TelemetryWriterOptions;
  #pending: Pending[] = [];
  #inFlight = 0;
  /** Slots handed to woken waiters that have not enqueued yet. */
  #reserved = 0;
  #waiters: Array<() => void> = [];
  #timer: unknown;
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: TelemetryWriterDeps, options: TelemetryWriterOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Batches waiting or being written. */
  depth(): number {
    return this.#pending.length + this.#inFlight + this.#reserved;
  }

  /** Settles once the batch's transaction committed; waits first while the queue is full. */
  async write(batch: BatchToStore): Promise<WriteOutcome> {
    if (this.#waiters.length > 0 || this.depth() >= this.#options.queueBatches) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      this.#reserved -= 1;
    }
    if (this.#stopped) throw new UnavailableError('telemetry ingest is stopping');
    const outcome = new Promise<WriteOutcome>((resolve, reject) =>
      this.#pending.push({ batch, resolve, reject }),
    );
    this.#updateDepth();
    this.#schedule();
    return outcome;
  }

  /** Writes what is queued, then refuses new batches. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    while (this.#flushing || this.#pending.length > 0) await (this.#flushing ?? this.#flush());
    // Woken waiters see #stopped and refuse.
    for (const wake of this.#waiters.splice(0)) {
      this.#reserved += 1;
      wake();
    }
  }

  #schedule(): void {
    if (this.#flushing) return; // the running flush starts the next one when it ends
    if (this.#pending.length >= this.#options.maxBatchesPerWrite) {
      void this.#flush();
      return;
    }
    this.#timer ??= this.#deps.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, this.#options.flushIntervalMs);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#clearTimer();
    const items = this.#pending.splice(0, this.#options.maxBatchesPerWrite);
    if (items.length === 0) return Promise.resolve();
    this.#inFlight = items.length;
    this.#flushing = this.#writeAll(items).finally(() => {
      this.#inFlight = 0;
      this.#flushing = undefined;
      this.#wakeWaiters();
      this.#updateDepth();
      // What arrived meanwhile has waited one transaction already: write it now.
      if (this.#pending.length > 0) void this.#flush();
    });
    return this.#flushing;
  }

  async #writeAll(items: Pending[]): Promise<void> {
    const started = this.#deps.clock.now();
    try {
      const outcomes = await this.#deps.store.writeBatches(items.map((item) => item.batch));
      items.forEach((item, i) => item.resolve(outcomes[i] ?? 'stored'));
    } catch (error) {
      if (items.length === 1 || error instanceof UnavailableError) {
        for (const item of items) item.reject(error);
      } else {
        this.#deps.logger.warn(
          { err: error, batches: items.length },
          'telemetry write failed; retrying one by one',
        );
        for (const item of items) await this.#writeOne(item);
      }
    } finally {
      this.#deps.metrics?.observeWrite(items.length, (this.#deps.clock.now() - started) / 1000);
    }
  }

  async #writeOne(item: Pending): Promise<void> {
    try {
      const [outcome] = await this.#deps.store.writeBatches([item.batch]);
      item.resolve(outcome ?? 'stored');
    } catch (error) {
      item.reject(error);
    }
  }

  #wakeWaiters(): void {
    let free = this.#options.queueBatches - this.depth();
    while (free > 0 && this.#waiters.length > 0) {
      this.#reserved += 1;
      free -= 1;
      this.#waiters.shift()?.();
    }
  }

  #updateDepth(): void {
    this.#deps.metrics?.queueDepth.set(this.depth());
  }
}
