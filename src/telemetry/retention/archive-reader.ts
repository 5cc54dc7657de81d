/**
 * Reads archived raw telemetry back from the Parquet files the catalog lists (hyparquet): the cold
 * tier behind the query API. Only the days of the asked range are opened; row groups whose
 * statistics exclude the metric (or the device) are skipped by the reader; the time range is
 * applied per row.
 */
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type { EventSeverity, TelemetryEvent } from '../../contracts/telemetry-messages.ts';
import type { ArchiveEntry, TelemetryRetentionStore } from '../../store/telemetry-retention-types.ts';
import type { EventQuery, SeriesPoint, StoredEvent } from '../../store/telemetry-types.ts';
import { dayStart } from './retention-plan.ts';

/** Devices whose windows count: one set, or a look-up made only when an archived day is in range. */
export type DeviceSet = ReadonlySet<string> | (() => Promise<ReadonlySet<string>>);

export interface ArchivedWindowQuery {
  metric: string;
  /** [fromMs, toMs) on the window start. */
  fromMs: number;
  toMs: number;
  /** Every device when absent. */
  devices?: DeviceSet;
  limit: number;
}

/** The cold tier as the query side sees it. */
export interface ArchivedTelemetry {
  /** Archived raw windows, oldest first (start, then device), at most `limit`. */
  windows(query: ArchivedWindowQuery): Promise<SeriesPoint[]>;
  /** Archived events of the device, newest first, at most `limit`. */
  events(query: EventQuery): Promise<StoredEvent[]>;
}

type ParquetRow = Record<string, unknown>;
const num = (value: unknown): number => Number(value);

export class ParquetArchiveReader implements ArchivedTelemetry {
  readonly #catalog: Pick<TelemetryRetentionStore, 'listArchives'>;
  readonly #root: string;

  constructor(deps: { catalog: Pick<TelemetryRetentionStore, 'listArchives'>; archiveRoot: string }) {
    this.#catalog = deps.catalog;
    this.#root = deps.archiveRoot;
  }

  async windows(q: ArchivedWindowQuery): Promise<SeriesPoint[]> {
    const entries = await this.#catalog.listArchives({
      table: 'windows',
      fromMs: dayStart(q.fromMs),
      toMs: q.toMs,
    });
    if (entries.length === 0) return [];
    const devices = typeof q.devices === 'function' ? await q.devices() : q.devices;
    const only = devices?.size === 1 ? [...devices][0] : undefined;
    const filter = { metric: { $eq: q.metric }, ...(only !== undefined && { device_id: { $eq: only } }) };
    const points: SeriesPoint[] = [];
    for (const day of byDay(entries)) {
      const dayPoints: SeriesPoint[] = [];
      for (const entry of day) {
        for (const row of await this.#read(entry, filter)) {
          const startMs = num(row.start_ms);
          const deviceId = String(row.device_id);
          if (startMs < q.fromMs || startMs >= q.toMs || (devices && !devices.has(deviceId))) continue;
          dayPoints.push(pointFromArchive(deviceId, startMs, row));
        }
      }
      dayPoints.sort((a, b) => a.startMs - b.startMs || compareText(a.deviceId ?? '', b.deviceId ?? ''));
      points.push(...dayPoints);
      // Later days start later: they cannot be among the first `limit` points.
      if (points.length >= q.limit) break;
    }
    return points.slice(0, q.limit);
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    const entries = await this.#catalog.listArchives({
      table: 'events',
      fromMs: dayStart(q.fromMs),
      toMs: q.toMs,
    });
    const types = q.types && new Set<string>(q.types);
    const severities = q.severities && new Set<string>(q.severities);
    const events: StoredEvent[] = [];
    for (const entry of entries.reverse()) {
      const dayEvents: StoredEvent[] = [];
      for (const row of await this.#read(entry, { device_id: { $eq: q.deviceId } })) {
        const atMs = num(row.at_ms);
        if (atMs < q.fromMs || atMs >= q.toMs) continue;
        if (types && !types.has(String(row.type))) continue;
        if (severities && !severities.has(String(row.severity))) continue;
        dayEvents.push(eventFromArchive(atMs, row));
      }
      dayEvents.sort((a, b) => b.atMs - a.atMs);
      events.push(...dayEvents);
      if (events.length >= q.limit) break;
    }
    return events.slice(0, q.limit);
  }

  async #read(entry: ArchiveEntry, filter: Record<string, { $eq: string }>): Promise<ParquetRow[]> {
    const file = await asyncBufferFromFile(join(this.#root, ...entry.path.split('/')));
    return (await parquetReadObjects({ file, filter })) as ParquetRow[];
  }
}

/** Catalog entries (sorted by day) grouped per day. */
function byDay(entries: readonly ArchiveEntry[]): ArchiveEntry[][] {
  const days: ArchiveEntry[][] = [];
  for (const entry of entries) {
    const last = days.at(-1);
    if (last && last[0]?.dayStartMs === entry.dayStartMs) last.push(entry);
    else days.push([entry]);
  }
  return days;
}

/** Code-unit order, like the stores' binary ("C") collation for ASCII ids. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pointFromArchive(deviceId: string, startMs: number, row: ParquetRow): SeriesPoint {
  const count = num(row.count);
  const endMs = num(row.end_ms);
  const avg = num(row.avg);
  return {
    deviceId,
    startMs,
    endMs,
    min: num(row.min),
    max: num(row.max),
    avg,
    sum: avg * count,
    count,
    last: num(row.last),
    lastAtMs: endMs,
  };
}

function eventFromArchive(atMs: number, row: ParquetRow): StoredEvent {
  const message = row.message;
  return {
    deviceId: String(row.device_id),
    seq: num(row.seq),
    type: String(row.type) as TelemetryEvent['type'],
    atMs,
    severity: String(row.severity) as EventSeverity,
    code: String(row.code),
    ...(typeof message === 'string' && { message }),
  };
}
