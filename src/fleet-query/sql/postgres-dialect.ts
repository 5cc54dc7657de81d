/**
 * PostgreSQL: times are timestamptz (bound as ISO text), tags are jsonb. Version keys come from
 * the SQL function `flotilla_version_key` (migration 11), compared in the "C" collation so the
 * order is byte order whatever the database's collation; the firmware version's key is also a stored,
 * indexed column (`devices.firmware_key`).
 * Placeholders that jsonb operators take are cast, because `->>` and `?` are overloaded.
 */
import type { QueryDialect } from './dialect.ts';

export const postgresQueryDialect: QueryDialect = {
  time: (ms, bind) => `${bind(new Date(ms).toISOString())}::timestamptz`,
  // The firmware version's key is a stored column (migration 15); other columns call the function.
  versionKey: (column) =>
    column === 'devices.firmware_version'
      ? 'devices.firmware_key'
      : `(flotilla_version_key(${column}) COLLATE "C")`,
  versionValue: (key, bind) => `(${bind(key)}::text COLLATE "C")`,
  tagExists: (key, bind) => `(devices.tags ? ${bind(key)}::text)`,
  // Containment uses the GIN index on tags; the list form guards against a missing key (NULL).
  tagIn: (key, values, bind) =>
    values.length === 1
      ? `(devices.tags @> jsonb_build_object(${bind(key)}::text, ${bind(values[0] ?? '')}::text))`
      : `(devices.tags ? ${bind(key)}::text AND (devices.tags ->> ${bind(key)}::text) IN (${values.map((v) => `${bind(v)}::text`).join(', ')}))`,
};
