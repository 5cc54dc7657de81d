/**
 * The SQL the PostgreSQL store runs. Values are always bound ($n); times are timestamptz and
 * bound as Date; tags are bound as JSON text and cast to jsonb. GREATEST ignores NULLs, so
 * `GREATEST(last_seen_at, $n)` is "the later of the two" even before the first sighting.
 */
import type { Device } from '../../contracts/device.ts';
import { deviceColumns, deviceFromRow, type DeviceRow, type RowDecoders } from '../row-mapping.ts';

export type PgDeviceRow = DeviceRow<Date, Record<string, string>>;

const decoders: RowDecoders<Date, Record<string, string>> = {
  timeMs: (value) => value.getTime(),
  tags: (value) => value,
};

export const toPgDevice = (row: PgDeviceRow): Device => deviceFromRow(row, decoders);

export const insertDevice = `
  INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags, reported_tags,
    region, owner, created_at, attributes_changed_at)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $6::jsonb, $7, $8, $9, $9)
  RETURNING ${deviceColumns}`;

export const selectDevice = `SELECT ${deviceColumns} FROM devices WHERE id = $1`;

export const selectSummary = `
  SELECT count(*)::int AS total, (count(*) FILTER (WHERE connection_state = 'online'))::int AS online
  FROM devices`;

/** $1 id, $2 serial, $3 at. Only a new id inserts; an existing device keeps its serial. */
export const upsertConnected = `
  INSERT INTO devices (id, serial, created_at, attributes_changed_at, connection_state, connection_changed_at,
    last_seen_at)
  VALUES ($1, $2, $3, $3, 'online', $3, $3)
  ON CONFLICT (id) DO UPDATE SET connection_state = 'online', connection_changed_at = EXCLUDED.connection_changed_at,
    last_seen_at = GREATEST(devices.last_seen_at, EXCLUDED.last_seen_at)
  RETURNING ${deviceColumns}`;

/** $1 id, $2 at */
export const updateDisconnected = `
  UPDATE devices SET connection_state = 'offline', connection_changed_at = $2
  WHERE id = $1 AND connection_state = 'online' AND (connection_changed_at IS NULL OR connection_changed_at <= $2)`;

/** $1 ids, $2 times (parallel arrays). Grouping first: one target row must match one source row. */
export const updateSeen = `
  UPDATE devices AS d SET last_seen_at = GREATEST(d.last_seen_at, u.seen)
  FROM (
    SELECT id, max(seen) AS seen FROM unnest($1::text[], $2::timestamptz[]) AS s(id, seen) GROUP BY id
  ) AS u
  WHERE d.id = u.id`;

/**
 * $1 id, $2 seq, $3 firmware, $4 model, $5 revision, $6 region or null, $7 tags JSON or null, $8 at.
 * Reports whether the row changed and whether the device exists, in one round trip.
 */
export const updateReported = `
  WITH updated AS (
    UPDATE devices SET firmware_version = $3, hardware_model = $4, hardware_revision = $5,
      region = coalesce($6, region), tags = coalesce($7::jsonb || operator_tags, tags),
      reported_tags = coalesce($7::jsonb, reported_tags), reported_seq = $2,
      last_seen_at = GREATEST(last_seen_at, $8),
      -- Moves only when something a rollout selector reads changes (SET sees the old row).
      attributes_changed_at = CASE WHEN firmware_version IS DISTINCT FROM $3
        OR hardware_model IS DISTINCT FROM $4 OR hardware_revision IS DISTINCT FROM $5
        OR ($6::text IS NOT NULL AND region IS DISTINCT FROM $6)
        OR ($7::jsonb IS NOT NULL AND tags IS DISTINCT FROM $7::jsonb || operator_tags)
        THEN $8 ELSE attributes_changed_at END
    WHERE id = $1 AND (reported_seq IS NULL OR reported_seq < $2)
    RETURNING id
  )
  SELECT EXISTS (SELECT 1 FROM updated) AS applied, EXISTS (SELECT 1 FROM devices WHERE id = $1) AS known`;

/** $1 at */
export const updateAllOffline = `
  UPDATE devices SET connection_state = 'offline', connection_changed_at = $1 WHERE connection_state = 'online'`;

/** $1 ids, $2 tags to set (jsonb), $3 keys to remove, $4 at. */
export const updateOperatorTags = `
  UPDATE devices SET operator_tags = (operator_tags || $2::jsonb) - $3::text[],
    tags = reported_tags || ((operator_tags || $2::jsonb) - $3::text[]),
    attributes_changed_at = CASE WHEN tags IS DISTINCT FROM reported_tags || ((operator_tags || $2::jsonb) - $3::text[])
      THEN $4 ELSE attributes_changed_at END
  WHERE id = ANY($1::text[]) AND operator_tags IS DISTINCT FROM (operator_tags || $2::jsonb) - $3::text[]`;
