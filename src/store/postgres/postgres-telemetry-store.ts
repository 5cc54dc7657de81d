/**
 * The telemetry store on the shared pg pool. A write is one transaction of multi-row statements
 * (`INSERT … SELECT FROM unnest(arrays)`: one round trip per table, whatever the batch count),
 * after the day partitions it needs exist. Rollup and latest-value upserts are merged in memory
 * first, so no statement touches a row twice, and sorted, so concurrent writers lock rows in one
 * order.
 */
import { daysOf, latestValues, rollupDeltas, type DeviceGroups } from '../../telemetry/rollups.ts';
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
import type { PgSession } from './pg-session.ts';
import { TelemetryPartitions } from './postgres-telemetry-partitions.ts';

const windowColumns = 'w.device_id, w.start_ms, w.end_ms, w.min, w.max, w.avg, w.count, w.last';
const rawRange =
  'w.metric = $2 AND w.start_ms >= $3 AND w.start_ms < $4 ORDER BY w.start_ms, w.device_id LIMIT $5';

const sql = {
  insertBatches: `INSERT INTO telemetry_batches
      (device_id, seq, received_at, accepted, rejected, dropped_batches, dropped_from_seq)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::int[], $6::int[], $7::bigint[])
    ON CONFLICT DO NOTHING RETURNING device_id, seq`,
  insertWindows: `INSERT INTO telemetry_windows
      (device_id, kind, metric, start_ms, end_ms, min, max, avg, count, last)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
      $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::float8[])`,
  insertEvents: `INSERT INTO telemetry_events (device_id, seq, at_ms, type, severity, code, message)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])`,
  upsertRollups: `INSERT INTO telemetry_rollups
      (scope, scope_key, resolution, metric, bucket_start_ms, kind, min, max, sum, count, last, last_at_ms)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
      $7::float8[], $8::float8[], $9::float8[], $10::bigint[], $11::float8[], $12::bigint[])
    ON CONFLICT (scope, scope_key, resolution, metric, bucket_start_ms) DO UPDATE SET
      min = LEAST(telemetry_rollups.min, EXCLUDED.min),
      max = GREATEST(telemetry_rollups.max, EXCLUDED.max),
      sum = telemetry_rollups.sum + EXCLUDED.sum,
      count = telemetry_rollups.count + EXCLUDED.count,
      last = CASE WHEN EXCLUDED.last_at_ms >= telemetry_rollups.last_at_ms
        THEN EXCLUDED.last ELSE telemetry_rollups.last END,
      last_at_ms = GREATEST(telemetry_rollups.last_at_ms, EXCLUDED.last_at_ms)`,
  upsertLatest: `INSERT INTO telemetry_latest (device_id, metric, kind, at_ms, value)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[])
    ON CONFLICT (device_id, metric) DO UPDATE SET kind = EXCLUDED.kind, at_ms = EXCLUDED.at_ms, value = EXCLUDED.value
    WHERE EXCLUDED.at_ms > telemetry_latest.at_ms`,
  groupsOf: 'SELECT id, hardware_model, firmware_version FROM devices WHERE id = ANY($1::text[])',
  appMetricNames: `SELECT device_id, metric FROM telemetry_latest
    WHERE device_id = ANY($1::text[]) AND kind = 'app' ORDER BY device_id, metric`,
  rawOfDevice: `SELECT ${windowColumns} FROM telemetry_windows w WHERE w.device_id = $1 AND ${rawRange}`,
  rawOfModel: `SELECT ${windowColumns} FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE d.hardware_model = $1 AND ${rawRange}`,
  rawOfFirmware: `SELECT ${windowColumns} FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE d.firmware_version = $1 AND ${rawRange}`,
  rawOfFleet: `SELECT ${windowColumns} FROM telemetry_windows w WHERE $1::text IS NOT NULL AND ${rawRange}`,
  rollups: `SELECT bucket_start_ms, min, max, sum, count, last, last_at_ms FROM telemetry_rollups
    WHERE scope = $1 AND scope_key = $2 AND resolution = $3 AND metric = $4
      AND bucket_start_ms >= $5 AND bucket_start_ms < $6
    ORDER BY bucket_start_ms LIMIT $7`,
  latest: `SELECT device_id, metric, kind, at_ms, value FROM telemetry_latest
    WHERE device_id = ANY($1::text[]) AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
    ORDER BY device_id, metric`,
  events: `SELECT device_id, seq, at_ms, type, severity, code, message FROM telemetry_events
    WHERE device_id = $1 AND at_ms >= $2 AND at_ms < $3
      AND ($4::text[] IS NULL OR type = ANY($4::text[])) AND ($5::text[] IS NULL OR severity = ANY($5::text[]))
    ORDER BY at_ms DESC LIMIT $6`,
  summary: summarySql(
    'SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS r (device_id, from_ms, to_ms)',
    'SELECT unnest($4::text[])',
  ),
} as const;

const list = (values: readonly string[] | undefined): string[] | null => (values ? [...values] : null);

export class PostgresTelemetryStore implements TelemetryStore {
  readonly #session: PgSession;
  readonly #partitions: TelemetryPartitions;

  constructor(session: PgSession) {
    this.#session = session;
    this.#partitions = new TelemetryPartitions(session);
  }

  async writeBatches(batches: readonly BatchToStore[]): Promise<WriteOutcome[]> {
    this.#session.checkOpen();
    await this.#partitions.ensure(
      'telemetry_windows',
      daysOf(batches.flatMap((b) => b.windows.map((w) => w.startMs))),
    );
    await this.#partitions.ensure(
      'telemetry_events',
      daysOf(batches.flatMap((b) => b.events.map((e) => e.atMs))),
    );
    return this.#session.transaction(async (client) => {
      const inserted = await client.query<{ device_id: string; seq: string }>(sql.insertBatches, [
        batches.map((b) => b.deviceId),
        batches.map((b) => b.seq),
        batches.map((b) => b.receivedAtMs),
        batches.map((b) => b.accepted),
        batches.map((b) => b.rejected),
        batches.map((b) => b.dropped?.batches ?? null),
        batches.map((b) => b.dropped?.fromSeq ?? null),
      ]);
      // A (device, seq) listed twice is inserted once: the first occurrence is the stored one.
      const fresh = new Set(inserted.rows.map((r) => `${r.device_id}\u0000${r.seq}`));
      const stored: BatchToStore[] = [];
      const outcomes = batches.map((b): WriteOutcome => {
        if (!fresh.delete(`${b.deviceId}\u0000${b.seq}`)) return 'duplicate';
        stored.push(b);
        return 'stored';
      });
      const windows = stored.flatMap((b) => b.windows.map((w) => ({ deviceId: b.deviceId, ...w })));
      if (windows.length > 0)
        await client.query(sql.insertWindows, [
          windows.map((w) => w.deviceId),
          windows.map((w) => w.kind),
          windows.map((w) => w.metric),
          windows.map((w) => w.startMs),
          windows.map((w) => w.endMs),
          windows.map((w) => w.min),
          windows.map((w) => w.max),
          windows.map((w) => w.avg),
          windows.map((w) => w.count),
          windows.map((w) => w.last),
        ]);
      const events = stored.flatMap((b) => b.events.map((e) => ({ deviceId: b.deviceId, seq: b.seq, ...e })));
      if (events.length > 0)
        await client.query(sql.insertEvents, [
          events.map((e) => e.deviceId),
          events.map((e) => e.seq),
          events.map((e) => e.atMs),
          events.map((e) => e.type),
          events.map((e) => e.severity),
          events.map((e) => e.code),
          events.map((e) => e.message ?? null),
        ]);
      const withWindows = stored.filter((b) => b.windows.length > 0);
      if (withWindows.length === 0) return outcomes;
      const groups = await client.query<{
        id: string;
        hardware_model: string | null;
        firmware_version: string | null;
      }>(sql.groupsOf, [[...new Set(withWindows.map((b) => b.deviceId))]]);
      const groupsOf = new Map<string, DeviceGroups>(
        groups.rows.map((r) => [r.id, { model: r.hardware_model, firmware: r.firmware_version }]),
      );
      const deltas = rollupDeltas(withWindows, groupsOf);
      await client.query(sql.upsertRollups, [
        deltas.map((d) => d.scope),
        deltas.map((d) => d.scopeKey),
        deltas.map((d) => d.resolution),
        deltas.map((d) => d.metric),
        deltas.map((d) => d.bucketStartMs),
        deltas.map((d) => d.kind),
        deltas.map((d) => d.min),
        deltas.map((d) => d.max),
        deltas.map((d) => d.sum),
        deltas.map((d) => d.count),
        deltas.map((d) => d.last),
        deltas.map((d) => d.lastAtMs),
      ]);
      const latest = latestValues(withWindows);
      await client.query(sql.upsertLatest, [
        latest.map((v) => v.deviceId),
        latest.map((v) => v.metric),
        latest.map((v) => v.kind),
        latest.map((v) => v.atMs),
        latest.map((v) => v.value),
      ]);
      return outcomes;
    });
  }

  async appMetricNames(deviceIds: readonly string[]): Promise<Map<string, string[]>> {
    const names = new Map<string, string[]>();
    for (const ids of chunked(deviceIds)) {
      const result = await this.#session.query<{ device_id: string; metric: string }>(sql.appMetricNames, [
        ids,
      ]);
      namesByDevice(names, result.rows);
    }
    return names;
  }

  async querySeries(q: SeriesQuery): Promise<SeriesPoint[]> {
    if (q.resolution !== 'raw') {
      const resolution = q.resolution;
      const key = q.scope === 'fleet' ? '' : q.key;
      const result = await this.#session.query<RollupPointRow>(sql.rollups, [
        q.scope,
        key,
        resolution,
        q.metric,
        q.fromMs,
        q.toMs,
        q.limit,
      ]);
      return result.rows.map((row) => pointFromRollup(resolution, row));
    }
    const text = {
      device: sql.rawOfDevice,
      model: sql.rawOfModel,
      firmware: sql.rawOfFirmware,
      fleet: sql.rawOfFleet,
    }[q.scope];
    const result = await this.#session.query<WindowPointRow>(text, [
      q.key,
      q.metric,
      q.fromMs,
      q.toMs,
      q.limit,
    ]);
    return result.rows.map(pointFromWindow);
  }

  async latest(deviceIds: readonly string[], metrics?: readonly string[]): Promise<LatestValue[]> {
    const values: LatestValue[] = [];
    for (const ids of chunked(deviceIds)) {
      const result = await this.#session.query<LatestRow>(sql.latest, [ids, list(metrics)]);
      values.push(...result.rows.map(latestFromRow));
    }
    return values;
  }

  async listEvents(q: EventQuery): Promise<StoredEvent[]> {
    const result = await this.#session.query<EventRow>(sql.events, [
      q.deviceId,
      q.fromMs,
      q.toMs,
      list(q.types),
      list(q.severities),
      q.limit,
    ]);
    return result.rows.map(eventFromRow);
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

  async summarizeRanges(
    ranges: ReadonlyArray<{ deviceId: string; fromMs: number; toMs: number }>,
    metrics: readonly string[],
  ): Promise<DeviceSummaries> {
    const summaries: DeviceSummaries = new Map();
    if (metrics.length === 0) return summaries;
    for (const part of chunked(ranges)) {
      const result = await this.#session.query<SummaryRow>(sql.summary, [
        part.map((r) => r.deviceId),
        part.map((r) => r.fromMs),
        part.map((r) => r.toMs),
        [...metrics],
      ]);
      addSummaries(summaries, result.rows);
    }
    return summaries;
  }
}
