/** The anomaly detectors' reads (anomaly-types.ts) on PostgreSQL: one grouped statement each. */
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
import type { PgSession } from './pg-session.ts';

const sql = {
  peerSamples: `SELECT DISTINCT w.device_id AS device_id, d.hardware_model AS model,
      d.firmware_version AS firmware, w.metric AS metric,
      sum(w.avg * w.count) OVER p AS sum, sum(w.count) OVER p AS count,
      sum(w.end_ms - w.start_ms) OVER p AS covered_ms,
      first_value(w.avg) OVER o AS first_avg, first_value((w.start_ms + w.end_ms) / 2) OVER o AS first_at_ms,
      last_value(w.avg) OVER o AS last_avg, last_value((w.start_ms + w.end_ms) / 2) OVER o AS last_at_ms
    FROM telemetry_windows w JOIN devices d ON d.id = w.device_id
    WHERE w.metric = ANY($1::text[]) AND w.start_ms >= $2 AND w.start_ms < $3
      AND d.hardware_model IS NOT NULL AND d.firmware_version IS NOT NULL
    WINDOW p AS (PARTITION BY w.device_id, w.metric),
      o AS (PARTITION BY w.device_id, w.metric ORDER BY w.start_ms, w.end_ms
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ORDER BY model, firmware, device_id, metric`,
  // ISO text is exact to the ms (a division into to_timestamp() may round).
  recentlyOffline: `SELECT id, hardware_model, firmware_version, region, tags,
      (extract(epoch FROM connection_changed_at) * 1000)::float8 AS offline_ms
    FROM devices WHERE connection_state = 'offline' AND connection_changed_at >= $1::timestamptz
    ORDER BY connection_changed_at DESC, id LIMIT $2`,
  counterSums: `SELECT d.hardware_model AS model, d.firmware_version AS firmware,
      sum(x.sum)::float8 AS sum, sum(x.samples)::float8 AS samples
    FROM (
      SELECT device_id, avg * count AS sum, count AS samples FROM telemetry_windows
        WHERE metric = $1 AND ((start_ms >= $2 AND start_ms < $3) OR (start_ms >= $4 AND start_ms < $5))
      UNION ALL
      SELECT scope_key, sum, count FROM telemetry_rollups
        WHERE scope = 'device' AND resolution = 'hour' AND metric = $1
          AND bucket_start_ms >= $6 AND bucket_start_ms < $7
    ) x JOIN devices d ON d.id = x.device_id
    WHERE d.hardware_model IS NOT NULL AND d.firmware_version IS NOT NULL
    GROUP BY d.hardware_model, d.firmware_version ORDER BY 1, 2`,
} as const;

interface OfflineRow {
  id: string;
  hardware_model: string | null;
  firmware_version: string | null;
  region: string | null;
  tags: Record<string, string>;
  offline_ms: number;
}

export class PostgresAnomalyStore implements AnomalyStore {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async peerSamples(metrics: readonly string[], fromMs: number, toMs: number): Promise<PeerSample[]> {
    const result = await this.#session.query<PeerSampleRow>(sql.peerSamples, [[...metrics], fromMs, toMs]);
    return result.rows.map(peerSampleFromRow);
  }

  async recentlyOffline(sinceMs: number, limit: number): Promise<OfflineDevice[]> {
    const result = await this.#session.query<OfflineRow>(sql.recentlyOffline, [
      new Date(sinceMs).toISOString(),
      limit,
    ]);
    return result.rows.map((row) => ({
      deviceId: row.id,
      model: row.hardware_model,
      firmware: row.firmware_version,
      region: row.region,
      tags: row.tags,
      offlineSinceMs: Math.round(row.offline_ms),
    }));
  }

  async factorCounts(factor: DeviceFactor): Promise<FactorCount[]> {
    const target = factorColumn(factor);
    const expression = 'column' in target ? target.column : `(tags ->> $1::text)`;
    const params = 'column' in target ? [] : [target.tag];
    const result = await this.#session.query<{ value: string; total: string; online: string }>(
      `SELECT ${expression} AS value, count(*) AS total,
          count(*) FILTER (WHERE connection_state = 'online') AS online
        FROM devices WHERE ${expression} IS NOT NULL GROUP BY 1 ORDER BY 1`,
      params,
    );
    return result.rows.map((row) => ({
      value: row.value,
      total: Number(row.total),
      online: Number(row.online),
    }));
  }

  async counterSums(metric: string, fromMs: number, toMs: number): Promise<GroupCounterSum[]> {
    const { raw, hours } = splitAtHours(fromMs, toMs);
    const result = await this.#session.query<GroupCounterSum>(sql.counterSums, [
      metric,
      raw[0][0],
      raw[0][1],
      raw[1][0],
      raw[1][1],
      hours[0],
      hours[1],
    ]);
    return result.rows;
  }
}
