/** Rows of device_config and config_defaults as both stores read them, mapped to records. Pure. */
import type { ConfigReported, ConfigSchema, ConfigValues } from '../contracts/config-messages.ts';
import { isoTime } from '../infra/clock.ts';
import { ConflictError } from '../infra/errors.ts';
import type { ConfigDefaults, DefaultsScope, DeviceConfigRecord } from './device-config-types.ts';

/** JSON columns arrive as text (SQLite) or parsed (PostgreSQL jsonb); integers maybe as strings (bigint). */
export interface DeviceConfigRow {
  device_id: string;
  desired: unknown;
  desired_version: number | string;
  desired_at: number | string | null;
  sent: unknown;
  sent_version: number | string;
  sent_at: number | string | null;
  reported: unknown;
  reported_at: number | string | null;
  config_schema: unknown;
  schema_at: number | string | null;
}

export interface ConfigDefaultsRow {
  scope: string;
  name: string;
  priority: number | string;
  doc: unknown;
  version: number | string;
  updated_at: number | string;
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
const time = (value: number | string | null): string | null =>
  value === null ? null : isoTime(Number(value));

export function toDeviceConfig(row: DeviceConfigRow): DeviceConfigRecord {
  const record: DeviceConfigRecord = {
    deviceId: row.device_id,
    desired: {
      values: json<ConfigValues>(row.desired),
      version: Number(row.desired_version),
      updatedAt: time(row.desired_at),
    },
    sent: {
      values: json<ConfigValues>(row.sent),
      version: Number(row.sent_version),
      sentAt: time(row.sent_at),
    },
  };
  if (row.reported !== null && row.reported_at !== null)
    record.reported = {
      report: json<Omit<ConfigReported, 'schema'>>(row.reported),
      at: isoTime(Number(row.reported_at)),
    };
  if (row.config_schema !== null && row.schema_at !== null)
    record.schema = { schema: json<ConfigSchema>(row.config_schema), at: isoTime(Number(row.schema_at)) };
  return record;
}

export function toConfigDefaults(row: ConfigDefaultsRow): ConfigDefaults {
  return {
    scope: row.scope as DefaultsScope,
    name: row.name,
    priority: Number(row.priority),
    values: json<ConfigValues>(row.doc),
    version: Number(row.version),
    updatedAt: isoTime(Number(row.updated_at)),
  };
}

export function desiredConflict(deviceId: string, expectedVersion: number, actual: number): ConflictError {
  return new ConflictError(
    `the desired config of ${deviceId} is at version ${actual}, not ${expectedVersion}: read it again`,
    { deviceId, expectedVersion, version: actual },
  );
}

export function defaultsConflict(
  scope: DefaultsScope,
  name: string,
  expectedVersion: number,
  actual: number,
): ConflictError {
  const what = scope === 'fleet' ? 'the fleet config defaults' : `the config defaults of group ${name}`;
  return new ConflictError(`${what} are at version ${actual}, not ${expectedVersion}: read them again`, {
    scope,
    name,
    expectedVersion,
    version: actual,
  });
}
