/**
 * Every statement the SQLite store runs, prepared once per database. Values are bound as named
 * parameters; times are ms since the epoch. `max(coalesce(x, @at), @at)` is "the later of x and
 * @at" because SQLite's max() returns NULL when any argument is NULL.
 */
import type Database from 'better-sqlite3';
import type { Device } from '../../contracts/device.ts';
import { deviceColumns, deviceFromRow, type DeviceRow, type RowDecoders } from '../row-mapping.ts';

export type SqliteDeviceRow = DeviceRow<number, string>;

const decoders: RowDecoders<number, string> = {
  timeMs: (value) => value,
  // Only the store writes the column, always from a Record<string, string>.
  tags: (value) => JSON.parse(value) as Record<string, string>,
};

export const toSqliteDevice = (row: SqliteDeviceRow): Device => deviceFromRow(row, decoders);

export interface InsertParams {
  id: string;
  serial: string;
  hardwareModel: string | null;
  hardwareRevision: string | null;
  firmwareVersion: string | null;
  tags: string;
  region: string | null;
  owner: string | null;
  createdAt: number;
}

export interface ReportParams {
  id: string;
  seq: number;
  firmwareVersion: string;
  hardwareModel: string;
  hardwareRevision: string;
  /** null keeps the stored value */
  region: string | null;
  /** JSON object; null keeps the stored tags */
  tags: string | null;
  at: number;
}

const laterSeen = 'max(coalesce(last_seen_at, @at), @at)';

/**
 * A report moves attributes_changed_at only when it changes something a rollout selector reads
 * (SET expressions see the old row). Tags compare as JSON text: a reordered object counts as a
 * change, which only makes the device a candidate once more.
 */
const attributesChanged = `CASE WHEN firmware_version IS NOT @firmwareVersion
  OR hardware_model IS NOT @hardwareModel OR hardware_revision IS NOT @hardwareRevision
  OR (@region IS NOT NULL AND region IS NOT @region)
  OR (@tags IS NOT NULL AND tags IS NOT json_patch(@tags, operator_tags))
  THEN @at ELSE attributes_changed_at END`;

export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<InsertParams, SqliteDeviceRow>(
      `INSERT INTO devices (id, serial, hardware_model, hardware_revision, firmware_version, tags,
         reported_tags, region, owner, created_at, attributes_changed_at)
       VALUES (@id, @serial, @hardwareModel, @hardwareRevision, @firmwareVersion, @tags, @tags, @region,
         @owner, @createdAt, @createdAt)
       RETURNING ${deviceColumns}`,
    ),
    byId: db.prepare<[string], SqliteDeviceRow>(`SELECT ${deviceColumns} FROM devices WHERE id = ?`),
    exists: db.prepare<[string], { id: string }>('SELECT id FROM devices WHERE id = ?'),
    summary: db.prepare<[], { total: number; online: number }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE connection_state = 'online') AS online FROM devices`,
    ),
    // Only a new id inserts; an existing device keeps its serial (the conflict target is id, so
    // the serial index can only reject the insert of a new device).
    connect: db.prepare<{ id: string; serial: string; at: number }, SqliteDeviceRow>(
      `INSERT INTO devices (id, serial, created_at, attributes_changed_at, connection_state,
         connection_changed_at, last_seen_at)
       VALUES (@id, @serial, @at, @at, 'online', @at, @at)
       ON CONFLICT (id) DO UPDATE SET connection_state = 'online', connection_changed_at = @at,
         last_seen_at = ${laterSeen}
       RETURNING ${deviceColumns}`,
    ),
    disconnect: db.prepare<{ id: string; at: number }>(
      `UPDATE devices SET connection_state = 'offline', connection_changed_at = @at
       WHERE id = @id AND connection_state = 'online' AND coalesce(connection_changed_at, @at) <= @at`,
    ),
    seen: db.prepare<{ id: string; at: number }>(
      `UPDATE devices SET last_seen_at = ${laterSeen} WHERE id = @id`,
    ),
    report: db.prepare<ReportParams>(
      `UPDATE devices SET firmware_version = @firmwareVersion, hardware_model = @hardwareModel,
         hardware_revision = @hardwareRevision, region = coalesce(@region, region),
         tags = coalesce(json_patch(@tags, operator_tags), tags),
         reported_tags = coalesce(@tags, reported_tags), reported_seq = @seq, last_seen_at = ${laterSeen},
         attributes_changed_at = ${attributesChanged}
       WHERE id = @id AND (reported_seq IS NULL OR reported_seq < @seq)`,
    ),
    // @patch: a JSON merge patch (null removes a key); @ids: a JSON array of ids.
    operatorTags: db.prepare<{ ids: string; patch: string; at: number }>(
      `UPDATE devices SET operator_tags = json_patch(operator_tags, @patch),
         tags = json_patch(reported_tags, json_patch(operator_tags, @patch)),
         attributes_changed_at = CASE WHEN tags IS NOT json_patch(reported_tags, json_patch(operator_tags, @patch))
           THEN @at ELSE attributes_changed_at END
       WHERE id IN (SELECT value FROM json_each(@ids))
         AND operator_tags IS NOT json_patch(operator_tags, @patch)`,
    ),
    allOffline: db.prepare<{ at: number }>(
      `UPDATE devices SET connection_state = 'offline', connection_changed_at = @at
       WHERE connection_state = 'online'`,
    ),
  };
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;
