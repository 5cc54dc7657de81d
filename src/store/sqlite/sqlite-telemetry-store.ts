/**
 * The telemetry store on the shared better-sqlite3 handle. A write is one IMMEDIATE transaction of
 * prepared single-row statements (in SQLite, re-running a prepared statement inside one
 * transaction is as fast as a multi-row insert, without the parameter limit). Lists of ids are
 * passed as JSON arrays (json_each) so one prepared statement serves any length.
 */
import type Database from 'better-sqlite3';
import { latestValues, rollupDeltas, type DeviceGroups } from '../../telemetry/rollups.ts';
import {
  addSummaries,
  eventFromRow,
  latestFromRow,
  namesByDevice,
  pointFromRollup,
  pointFromWindow,
  summarySql,
  type EventRow,
  type LatestRow,
  type RollupPointRow,
  type SummaryRow,
  type WindowPointRow,
} from '../telemetry-rows.ts';
import { chunked } from '../id-batches.ts';
import type {
  BatchToStore,
  DeviceSummaries,
  EventQuery,
  LatestValue,
  SeriesPoint,
  SeriesQuery,
  StoredEvent,
  TelemetryStore,
  WriteOutcome,
} from '../telemetry-types.ts';
import { runSync } from './sqlite-errors.ts';

const windowColumns = 'w.device_id, w.start_ms, w.end_ms, w.min, w.max, w.avg, w.count, w.last';
const inJson = 'SELECT value FROM json_each(?)';

const sql = {
  insertBatch: `INSERT INTO telemetry_batches
      (device_id, seq, received_at, accepted, rejected, dropped_batches, dropped_from_seq)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  insertWindow: `INSERT INTO telemetry_windows
      (device_id, kind, metric, start_ms, end_ms, min, max, avg, count, last)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertEvent: `INSERT INTO telemetry_events (device_id, seq, at_ms, type, severity, code, message)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  upsertRollup: `INSERT INTO telemetry_rollups
      (scope, scope_key, resolution, metric, bucket_start_ms, kind, min, max, sum, count, last, last_at_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET
      min = min(telemetry_rollups.min, excluded.min),
      max = max(telemetry_rollups.max, excluded.max),
      sum = telemetry_rollups.sum + excluded.sum,
      count = telemetry_rollups.count + excluded.count,
      last = CASE WHEN excluded.last_at_ms >= telemetry_rollups.last_at_ms
        THEN excluded.last ELSE telemetry_rollups.last END,
      last_at_ms = max(telemetry_rollups.last_at_ms, excluded.last_at_ms)`,
  upsertLatest: `INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET kind = excluded.kind, at_ms = excluded.at_ms, value = excluded.value
    WHERE excluded.at_ms > telemetry_latest.at_ms`,
  groupsOf: `SELECT id, hardware_model, firmware_version FROM devices WHERE id IN (${inJson})`,
  appMetricNames: `SELECT device_id, metric FROM telemetry_latest
    WHERE device_id IN (${inJson}) AND kind = 'app' ORDER BY device_id, metric`,
  rawOfDevice: `SELECT ${windowColumns} FROM telemetry_windows w
    WHERE w.device_id = ? AND w.metric = ? AND w.start_ms >= ? AND w.start_ms < ?
    ORDER BY w.start_ms LIMIT ?`,
  rawOfModel: `SELECT ${windowColumns} FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE d.hardware_model = ? AND w.metric = ? AND w.start_ms >= ? AND w.start_ms < ?
    ORDER BY w.start_ms, w.device_id LIMIT ?`,
  rawOfFirmware: `SELECT ${windowColumns} FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE d.firmware_version = ? AND w.metric = ? AND w.start_ms >= ? AND w.start_ms < ?
    ORDER BY w.start_ms, w.device_id LIMIT ?`,
  rawOfFleet: `SELECT ${windowColumns} FROM telemetry_windows w
    WHERE ? IS NOT NULL AND w.metric = ? AND w.start_ms >= ? AND w.start_ms < ?
    ORDER BY w.start_ms, w.device_id LIMIT ?`,
  rollups: `SELECT bucket_start_ms, min, max, sum, count, last, last_at_ms FROM telemetry_rollups
    WHERE scope = ? AND scope_key = ? AND resolution = ? AND metric = ?
      AND bucket_start_ms >= ? AND bucket_start_ms < ?
    ORDER BY bucket_start_ms LIMIT ?`,
  latest: `SELECT device_id, metric, kind, at_ms, value FROM telemetry_latest
    WHERE device_id IN (${inJson}) AND (? IS NULL OR metric IN (${inJson}))
    ORDER BY device_id, metric`,
  events: `SELECT device_id, seq, at_ms, type, severity, code, message FROM telemetry_events
    WHERE device_id = ? AND at_ms >= ? AND at_ms < ?
      AND (? IS NULL OR type IN (${inJson})) AND (? IS NULL OR severity IN (${inJson}))
    ORDER BY at_ms DESC LIMIT ?`,
  summary: summarySql(
    `SELECT json_extract(value, '$[0]') AS device_id, json_extract(value, '$[1]') AS from_ms,
      json_extract(value, '$[2]') AS to_ms FROM json_each(?)`,
    inJson,
  ),
} as const;

type Statements = { [K in keyof typeof sql]: Database.Statement<unknown[], unknown> };

const json = (list: readonly string[] | undefined): string | null =>
  list === undefined ? null : JSON.stringify(list);

export class SqliteTelemetryStore implements TelemetryStore {
  readonly #db: Database.Database;
  readonly #s: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    const entries = Object.entries(sql).map(([key, text]) => [key, db.prepare(text)] as const);
    this.#s = Object.fromEntries(entries) as Statements;
  }

  writeBatches(batches: readonly BatchToStore[]): Promise<WriteOutcome[]> {
    return runSync(this.#db, () => this.#db.transaction(() => this.#write(batches)).immediate());
  }

  #write(batches: readonly BatchToStore[]): WriteOutcome[] {
    const s = this.#s;
    const stored: BatchToStore[] = [];
    const outcomes = batches.map((b): WriteOutcome => {
      const inserted = s.insertBatch.run(
        b.deviceId,
        b.seq,
        b.receivedAtMs,
        b.accepted,
        b.rejected,
        b.dropped?.batches ?? null,
        b.dropped?.fromSeq ?? null,
      );
      if (inserted.changes === 0) return 'duplicate';
      stored.push(b);
      return 'stored';
    });
    for (const b of stored) {
      for (const w of b.windows)
        s.insertWindow.run(
          b.deviceId,
          w.kind,
          w.metric,
          w.startMs,
          w.endMs,
          w.min,
          w.max,
          w.avg,
          w.count,
          w.last,
        );
      for (const e of b.events)
        s.insertEvent.run(b.deviceId, b.seq, e.atMs, e.type, e.severity, e.code, e.message ?? null);
    }
    const withWindows = stored.filter((b) => b.windows.length > 0);
    if (withWindows.length === 0) return outcomes;
    for (const d of rollupDeltas(withWindows, this.#groupsOf(withWindows))) {
      s.upsertRollup.run(
        d.scope,
        d.scopeKey,
        d.resolution,
        d.metric,
        d.bucketStartMs,
        d.kind,
        d.min,
        d.max,
        d.sum,
        d.count,
        d.last,
        d.lastAtMs,
      );
    }
    for (const v of latestValues(withWindows))
      s.upsertLatest.run(v.deviceId, v.metric, v.kind, v.atMs, v.value);
    return outcomes;
  }

  #groupsOf(batches: readonly BatchToStore[]): Map<string, DeviceGroups> {
    const ids = [...new Set(batches.map((b) => b.deviceId))];
    const rows = this.#s.groupsOf.all(JSON.stringify(ids)) as Array<{
      id: string;
      hardware_model: string | null;
      firmware_version: string | null;
    }>;
    return new Map(rows.map((r) => [r.id, { model: r.hardware_model, firmware: r.firmware_version }]));
  }

  appMetricNames(deviceIds: readonly string[]): Promise<Map<string, string[]>> {
    return runSync(this.#db, () => {
      const names = new Map<string, string[]>();
      for (const ids of chunked(deviceIds)) {
        const rows = this.#s.appMetricNames.all(JSON.stringify(ids)) as Array<{
          device_id: string;
          metric: string;
        }>;
        namesByDevice(names, rows);
      }
      return names;
    });
  }

  querySeries(q: SeriesQuery): Promise<SeriesPoint[]> {
    return runSync(this.#db, () => {
      if (q.resolution !== 'raw') {
        const key = q.scope === 'fleet' ? '' : q.key;
        const rows = this.#s.rollups.all(q.scope, key, q.resolution, q.metric, q.fromMs, q.toMs, q.limit);
        return (rows as RollupPointRow[]).map((row) => pointFromRollup(q.resolution as 'hour' | 'day', row));
      }
      const statement = {
        device: this.#s.rawOfDevice,
        model: this.#s.rawOfModel,
        firmware: this.#s.rawOfFirmware,
        fleet: this.#s.rawOfFleet,
      }[q.scope];
      const rows = statement.all(q.key, q.metric, q.fromMs, q.toMs, q.limit) as WindowPointRow[];
      return rows.map(pointFromWindow);
    });
  }

  latest(deviceIds: readonly string[], metrics?: readonly string[]): Promise<LatestValue[]> {
    return runSync(this.#db, () =>
      chunked(deviceIds).flatMap((ids) =>
        (this.#s.latest.all(JSON.stringify(ids), json(metrics), json(metrics)) as LatestRow[]).map(
          latestFromRow,
        ),
      ),
    );
  }

  listEvents(q: EventQuery): Promise<StoredEvent[]> {
    return runSync(this.#db, () => {
      const rows = this.#s.events.all(
        q.deviceId,
        q.fromMs,
        q.toMs,
        json(q.types),
        json(q.types),
        json(q.severities),
        json(q.severities),
        q.limit,
      ) as EventRow[];
      return rows.map(eventFromRow);
    });
  }

  summarizeDevices(
    deviceIds: readonly string[],
    metrics: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<DeviceSummaries> {
    return this.summarizeRanges(
      deviceIds.map((deviceId) => ({ deviceId, fromMs, toMs })),
      metrics,
    );
  }

  summarizeRanges(
    ranges: ReadonlyArray<{ deviceId: string; fromMs: number; toMs: number }>,
    metrics: readonly string[],
  ): Promise<DeviceSummaries> {
    return runSync(this.#db, () => {
      const summaries: DeviceSummaries = new Map();
      if (metrics.length === 0) return summaries;
      for (const part of chunked(ranges)) {
        const tuples = part.map((r) => [r.deviceId, r.fromMs, r.toMs]);
        const rows = this.#s.summary.all(JSON.stringify(tuples), JSON.stringify(metrics));
        addSummaries(summaries, rows as SummaryRow[]);
      }
      return summaries;
    });
  }
}
