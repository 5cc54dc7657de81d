/**
 * Each device's application metric names, for the too_many_metrics rule: loaded from the store
 * once per device and then kept current by ingest. Loads asked for in the same tick go to the
 * store as one query (a burst of devices after a restart costs a few queries, not one per device
 * and not a pool connection each).
 */
import { healthMetrics } from '../contracts/telemetry-messages.ts';
import type { TelemetryStore } from '../store/telemetry-types.ts';

export class AppMetricNames {
  readonly #store: Pick<TelemetryStore, 'appMetricNames'>;
  readonly #names = new Map<string, Promise<Set<string>>>();
  #queued = new Map<string, { resolve: (names: Set<string>) => void; reject: (error: unknown) => void }>();

  constructor(store: Pick<TelemetryStore, 'appMetricNames'>) {
    this.#store = store;
  }

  /**
   * The device's names. The set is shared: callers add new names synchronously after awaiting it,
   * so concurrent batches of one device see each other's names.
   */
  of(deviceId: string): Promise<Set<string>> {
    let names = this.#names.get(deviceId);
    if (!names) {
      names = new Promise<Set<string>>((resolve, reject) => {
        if (this.#queued.size === 0) queueMicrotask(() => void this.#load());
        this.#queued.set(deviceId, { resolve, reject });
      });
      this.#names.set(deviceId, names);
      // A failed load is retried by the next batch of the device.
      names.catch(() => this.#names.delete(deviceId));
    }
    return names;
  }

  async #load(): Promise<void> {
    const queued = this.#queued;
    this.#queued = new Map();
    try {
      const stored = await this.#store.appMetricNames([...queued.keys()]);
      for (const [deviceId, { resolve }] of queued) {
        // Health metric names sent in app windows are range-checked, not counted (record-rules.ts).
        resolve(new Set((stored.get(deviceId) ?? []).filter((name) => !Object.hasOwn(healthMetrics, name))));
      }
    } catch (error) {
      for (const { reject } of queued.values()) reject(error);
    }
  }
}
