/** The anomaly detectors' reads (anomaly-types.ts) on SQLite: one grouped statement each. */
import type Database from 'better-sqlite3';
import {
  factorColumn,
  splitAtHours,
  type AnomalyStore,
  type DeviceFactor,
  type FactorCount,
  type GroupCounterSum,
  type OfflineDevice,
  type PeerSample,
} from '../anomaly-types.ts';
import { peerSampleFromRow, type PeerSampleRow } from '../anomaly-rows.ts';
import { runSync } from './sqlite-errors.ts';

const sql = {
  peerSamples: `SELECT DISTINCT w.device_id AS device_id, d.hardware_model AS model,
      d.firmware_version AS firmware, w.metric AS metric,
      sum(w.avg * w.count) OVER p AS sum, sum(w.count) OVER p AS count,
      sum(w.end_ms - w.start_ms) OVER p AS covered_ms,
      first_value(w.avg) OVER o AS first_avg, first_value((w.start_ms + w.end_ms) / 2) OVER o AS first_at_ms,
      last_value(w.avg) OVER o AS last_avg, last_value((w.start_ms + w.end_ms) / 2) OVER o AS last_at_ms
    FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE w.metric IN (SELECT value FROM json_each(?)) AND w.start_ms >= ? AND w.start_ms < ?
      AND d.hardware_model IS NOT NULL AND d.firmware_version IS NOT NULL
    WINDOW p AS (PARTITION BY w.device_id, w.metric),
      o AS (PARTITION BY w.device_id, w.metric ORDER BY w.start_ms, w.end_ms
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ORDER BY model, firmware, device_id, metric`,
  recentlyOffline: `SELECT id, hardware_model, firmware_version, region, tags, connection_changed_at
    FROM devices WHERE connection_state = 'offline' AND connection_changed_at >= ?
    ORDER BY connection_changed_at DESC, id LIMIT ?`,
  counterSums: `SELECT d.hardware_model AS model, d.firmware_version AS firmware,
      sum(x.sum) AS sum, sum(x.samples) AS samples
    FROM (
      SELECT device_id, avg * count AS sum, count AS samples FROM telemetry_windows
        WHERE metric = @metric AND ((start_ms >= @r0 AND start_ms < @r1) OR (start_ms >= @r2 AND start_ms < @r3))
      UNION ALL
      SELECT scope_key, sum, count FROM telemetry_rollups
        WHERE scope = 'device' AND resolution = 'hour' AND metric = @metric
          AND bucket_start_ms >= @h0 AND bucket_start_ms < @h1
    ) x JOIN devices d ON d.id = x.device_id
    WHERE d.hardware_model IS NOT NULL AND d.firmware_version IS NOT NULL
    GROUP BY d.hardware_model, d.firmware_version ORDER BY 1, 2`,
} as const;

interface OfflineRow {
  id: string;
  hardware_model: string | null;
  firmware_version: string | null;
  region: string | null;
  tags: string;
  connection_changed_at: number;
}

export class SqliteAnomalyStore implements AnomalyStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  peerSamples(metrics: readonly string[], fromMs: number, toMs: number): Promise<PeerSample[]> {
    return runSync(this.#db, () =>
      this.#db
        .prepare<unknown[], PeerSampleRow>(sql.peerSamples)
        .all(JSON.stringify(metrics), fromMs, toMs)
        .map(peerSampleFromRow),
    );
  }

  recentlyOffline(sinceMs: number, limit: number): Promise<OfflineDevice[]> {
    return runSync(this.#db, () =>
      this.#db
        .prepare<unknown[], OfflineRow>(sql.recentlyOffline)
        .all(sinceMs, limit)
        .map((row) => ({
          deviceId: row.id,
          model: row.hardware_model,
          firmware: row.firmware_version,
          region: row.region,
          tags: JSON.parse(row.tags) as Record<string, string>,
          offlineSinceMs: row.connection_changed_at,
        })),
    );
  }

  factorCounts(factor: DeviceFactor): Promise<FactorCount[]> {
    const target = factorColumn(factor);
    const expression = 'column' in target ? target.column : `json_extract(tags, ?)`;
    const params = 'column' in target ? [] : [`$."${target.tag}"`];
    const text = `SELECT ${expression} AS value, count(*) AS total,
        count(*) FILTER (WHERE connection_state = 'online') AS online
      FROM devices WHERE ${expression} IS NOT NULL GROUP BY 1 ORDER BY 1`;
    return runSync(this.#db, () =>
      this.#db
        .prepare<unknown[], FactorCount>(text)
        .all(...params, ...params)
        .map((row) => ({ value: String(row.value), total: row.total, online: row.online })),
    );
  }

  counterSums(metric: string, fromMs: number, toMs: number): Promise<GroupCounterSum[]> {
    const { raw, hours } = splitAtHours(fromMs, toMs);
    return runSync(this.#db, () =>
      this.#db.prepare<Record<string, unknown>, GroupCounterSum>(sql.counterSums).all({
        metric,
        r0: raw[0][0],
        r1: raw[0][1],
        r2: raw[1][0],
        r3: raw[1][1],
        h0: hours[0],
        h1: hours[1],
      }),
    );
  }
}
