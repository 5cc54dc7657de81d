/**
 * Collects last-seen times from heartbeats and writes them in one batch per interval,
 * so 10,000 heartbeats a minute cost a handful of transactions. Stop flushes what is left.
 */
import type { Logger } from 'pino';
import type { DeviceStore } from '../store/types.ts';
import type { Timers } from '../infra/timers.ts';

export interface PresenceBatcherOptions {
  flushIntervalMs: number;
}

export class PresenceBatcher {
  private pending = new Map<string, number>();
  private timer: unknown;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { store: DeviceStore; timers: Timers; logger: Logger },
    private readonly options: PresenceBatcherOptions,
  ) {}

  start(): void {
    this.timer = this.deps.timers.setInterval(() => void this.flush(), this.options.flushIntervalMs);
  }

  seen(deviceId: string, atMs: number): void {
    const previous = this.pending.get(deviceId);
    if (previous === undefined || atMs > previous) this.pending.set(deviceId, atMs);
  }

  /** Writes what has been collected; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending].map(([deviceId, lastSeenAt]) => ({ deviceId, lastSeenAt }));
      this.pending = new Map();
      try {
        await this.deps.store.recordSeen(batch);
      } catch (err) {
        // Keep the batch for the next attempt; newer times win when merged back.
        for (const { deviceId, lastSeenAt } of batch) this.seen(deviceId, lastSeenAt);
        this.deps.logger.warn({ err, devices: batch.length }, 'writing last-seen times failed; will retry');
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.deps.timers.clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
