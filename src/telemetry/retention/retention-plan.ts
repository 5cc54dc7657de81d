/**
 * What the retention job does at `nowMs`, from the configured retention days. Pure.
 *
 * Raw tier: a UTC day is archived and deleted once all of it is older than its source's raw
 * retention — the same bound ingest applies (record-rules.ts refuses older records), so no row can
 * be added to a day after it is archived. Warm tier: rollup buckets that ended before their
 * retention are deleted (not archived: they are derived from the raw rows, which are). Dedup rows of
 * batches are deleted after the longest raw retention plus a margin (see BATCH_DEDUP_MARGIN_DAYS).
 */
import type { TelemetryConfig } from '../../config/schema.ts';
import type { RawSource } from '../../store/telemetry-retention-types.ts';
import { bucketSizeMs, DAY_MS } from '../rollups.ts';

export type RetentionDays = TelemetryConfig['retentionDays'];

/**
 * A batch re-sent after its dedup row is gone is not stored twice: every record of it is then older
 * than its raw retention and refused at ingest. One day covers the clock skew ingest allows.
 */
export const BATCH_DEDUP_MARGIN_DAYS = 1;

export interface RawStep {
  source: RawSource;
  /** Days starting before this are wholly expired: archive, then delete. */
  beforeMs: number;
  /** Days starting before this are past every retention of their table (PostgreSQL may drop the partition). */
  dropPartitionBeforeMs: number;
}

export interface RetentionPlan {
  raw: RawStep[];
  rollups: Array<{ resolution: 'hour' | 'day'; beforeMs: number }>;
  batchesBeforeMs: number;
}

/** Start of the UTC day holding `ms`. */
export function dayStart(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

export function planRetention(nowMs: number, days: RetentionDays): RetentionPlan {
  const expiredBefore = (retentionDays: number) => dayStart(nowMs - retentionDays * DAY_MS);
  const windowsDropBefore = expiredBefore(Math.max(days.healthRaw, days.appRaw));
  const longestRaw = Math.max(days.healthRaw, days.appRaw, days.events);
  return {
    raw: [
      {
        source: { table: 'windows', kind: 'app' },
        beforeMs: expiredBefore(days.appRaw),
        dropPartitionBeforeMs: windowsDropBefore,
      },
      {
        source: { table: 'windows', kind: 'health' },
        beforeMs: expiredBefore(days.healthRaw),
        dropPartitionBeforeMs: windowsDropBefore,
      },
      {
        source: { table: 'events' },
        beforeMs: expiredBefore(days.events),
        dropPartitionBeforeMs: expiredBefore(days.events),
      },
    ],
    rollups: (['hour', 'day'] as const).map((resolution) => ({
      resolution,
      beforeMs:
        nowMs -
        (resolution === 'hour' ? days.hourlyRollups : days.dailyRollups) * DAY_MS -
        bucketSizeMs(resolution),
    })),
    batchesBeforeMs: nowMs - (longestRaw + BATCH_DEDUP_MARGIN_DAYS) * DAY_MS,
  };
}

/** `2026-08-29`: the UTC date of a day start. */
export function dayLabel(dayStartMs: number): string {
  return new Date(dayStartMs).toISOString().slice(0, 10);
}

/**
 * Where a day's file lives under the archive root, Hive-style so readers can partition on the path:
 * `windows/kind=health/day=2026-08-29/data.parquet`, `events/day=2026-08-29/data.parquet`.
 */
export function archivePath(source: RawSource, dayStartMs: number): string {
  const file = `day=${dayLabel(dayStartMs)}/data.parquet`;
  return source.table === 'windows' ? `windows/kind=${source.kind}/${file}` : `events/${file}`;
}

/** `windows/health` or `events`: a source's name in logs and metrics. */
export function sourceLabel(source: RawSource): string {
  return source.table === 'windows' ? `windows/${source.kind}` : 'events';
}
