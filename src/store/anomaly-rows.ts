/** Row mapping shared by the SQLite and PostgreSQL anomaly stores (PostgreSQL returns bigints as text). */
import type { PeerSample } from './anomaly-types.ts';

export interface PeerSampleRow {
  device_id: string;
  model: string;
  firmware: string;
  metric: string;
  sum: number | string;
  count: number | string;
  covered_ms: number | string;
  first_avg: number | string;
  first_at_ms: number | string;
  last_avg: number | string;
  last_at_ms: number | string;
}

export function peerSampleFromRow(row: PeerSampleRow): PeerSample {
  return {
    deviceId: row.device_id,
    model: row.model,
    firmware: row.firmware,
    metric: row.metric,
    sum: Number(row.sum),
    count: Number(row.count),
    coveredMs: Number(row.covered_ms),
    firstAvg: Number(row.first_avg),
    firstAtMs: Number(row.first_at_ms),
    lastAvg: Number(row.last_avg),
    lastAtMs: Number(row.last_at_ms),
  };
}
