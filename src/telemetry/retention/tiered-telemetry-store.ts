/**
 * The telemetry store as the query API sees it: raw series and events read across the hot store
 * and the cold archive, merged with the same order and limit as the hot store alone, so callers
 * never know where a row lives. Hourly and daily rollups (the warm tier) and everything else go
 * to the hot store unchanged.
 */
import type { DeviceStore } from '../../store/types.ts';
import type {
  EventQuery,
  SeriesPoint,
  SeriesQuery,
  StoredEvent,
  TelemetryStore,
} from '../../store/telemetry-types.ts';
import { compareText, type ArchivedTelemetry, type DeviceSet } from './archive-reader.ts';

export interface TieredTelemetryDeps {
  hot: TelemetryStore;
  archive: ArchivedTelemetry;
  /** Current members of a hardware model or firmware version (raw series of a group). */
  membersOf(scope: 'model' | 'firmware', key: string): Promise<ReadonlySet<string>>;
}

export function tieredTelemetryStore(deps: TieredTelemetryDeps): TelemetryStore {
  const { hot, archive } = deps;
  return {
    writeBatches: (batches) => hot.writeBatches(batches),
    appMetricNames: (ids) => hot.appMetricNames(ids),
    latest: (ids, metrics) => hot.latest(ids, metrics),
    summarizeDevices: (ids, metrics, fromMs, toMs) => hot.summarizeDevices(ids, metrics, fromMs, toMs),
    summarizeRanges: (ranges, metrics) => hot.summarizeRanges(ranges, metrics),

    async querySeries(q: SeriesQuery): Promise<SeriesPoint[]> {
      const hotPoints = await hot.querySeries(q);
      if (q.resolution !== 'raw') return hotPoints;
      const devices: DeviceSet | undefined =
        q.scope === 'device'
          ? new Set([q.key])
          : q.scope === 'fleet'
            ? undefined
            : () => deps.membersOf(q.scope as 'model' | 'firmware', q.key);
      const cold = await archive.windows({
        metric: q.metric,
        fromMs: q.fromMs,
        toMs: q.toMs,
        limit: q.limit,
        ...(devices && { devices }),
      });
      if (cold.length === 0) return hotPoints;
      return [...cold, ...hotPoints]
        .sort((a, b) => a.startMs - b.startMs || compareText(a.deviceId ?? '', b.deviceId ?? ''))
        .slice(0, q.limit);
    },

    async listEvents(q: EventQuery): Promise<StoredEvent[]> {
      const hotEvents = await hot.listEvents(q);
      const cold = await archive.events(q);
      if (cold.length === 0) return hotEvents;
      return [...hotEvents, ...cold].sort((a, b) => b.atMs - a.atMs).slice(0, q.limit);
    },
  };
}

/** Group members from the registry, read in pages. */
export function groupMembers(devices: Pick<DeviceStore, 'listDevices'>): TieredTelemetryDeps['membersOf'] {
  return async (scope, key) => {
    const filter = scope === 'model' ? { hardwareModel: key } : { firmwareVersion: key };
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await devices.listDevices(filter, {
        limit: 1000,
        ...(cursor !== undefined && { cursor }),
      });
      for (const device of page.items) ids.add(device.id);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return ids;
  };
}
