/**
 * The field registry: every name a query may use, its type, and where its value comes from.
 * The SQL for each source lives in the dialects (sql/*-dialect.ts); column names and the
 * telemetry table are named here so a schema change is adjusted in one place.
 */
import type { HealthMetric } from '../contracts/telemetry-messages.ts';

export type FieldType = 'text' | 'enum' | 'version' | 'number' | 'duration' | 'time' | 'boolean' | 'tag';

/** Columns of `devices` that fields read. */
export type DeviceColumn =
  | 'id'
  | 'serial'
  | 'hardware_model'
  | 'hardware_revision'
  | 'firmware_version'
  | 'region'
  | 'owner'
  | 'connection_state'
  | 'last_seen_at'
  | 'created_at';

export type Field =
  | {
      kind: 'column';
      name: string;
      type: 'text' | 'version' | 'time';
      column: DeviceColumn;
      nullable: boolean;
    }
  | { kind: 'enum'; name: string; type: 'enum'; column: DeviceColumn; values: readonly string[] }
  /** True while the device is connected. */
  | { kind: 'online'; name: string; type: 'boolean' }
  /** Time elapsed since `since`, relative to the query's reference time; absent when `since` is. */
  | { kind: 'elapsed'; name: string; type: 'duration'; since: 'offline' | 'created' }
  /** The latest reported value of a telemetry metric; absent when none was reported. */
  | { kind: 'telemetry'; name: string; type: 'number'; metric: string }
  | { kind: 'tag'; name: string; type: 'tag'; key: string };

/** Where the latest telemetry is read from: one row per (device, metric). */
export const telemetryTable = {
  table: 'telemetry_latest',
  deviceId: 'device_id',
  metric: 'metric',
  value: 'value',
} as const;

const column = (
  name: string,
  type: 'text' | 'version' | 'time',
  col: DeviceColumn,
  nullable: boolean,
): Field => ({ kind: 'column', name, type, column: col, nullable });

/** A short field name for a health metric of the telemetry contract (`battery` → `battery_pct`). */
const telemetry = (name: string, metric: HealthMetric): Field => ({
  kind: 'telemetry',
  name,
  type: 'number',
  metric,
});

/** Plain (undotted) field names. */
export const fields: ReadonlyMap<string, Field> = new Map(
  (
    [
      column('id', 'text', 'id', false),
      column('serial', 'text', 'serial', false),
      column('model', 'text', 'hardware_model', true),
      column('revision', 'text', 'hardware_revision', true),
      column('firmware', 'version', 'firmware_version', true),
      column('region', 'text', 'region', true),
      column('owner', 'text', 'owner', true),
      {
        kind: 'enum',
        name: 'status',
        type: 'enum',
        column: 'connection_state',
        values: ['online', 'offline'],
      },
      { kind: 'online', name: 'online', type: 'boolean' },
      column('last_seen', 'time', 'last_seen_at', true),
      column('created', 'time', 'created_at', false),
      { kind: 'elapsed', name: 'offline_for', type: 'duration', since: 'offline' },
      { kind: 'elapsed', name: 'age', type: 'duration', since: 'created' },
      telemetry('battery', 'battery_pct'),
      telemetry('signal', 'signal_dbm'),
      telemetry('temperature', 'temperature_c'),
    ] satisfies Field[]
  ).map((field): [string, Field] => [field.name, field]),
);

/** Dotted prefixes: `tag.<key>` and `telemetry.<metric>`. */
export const fieldPrefixes = ['tag', 'telemetry'] as const;

/** The field a path names, or undefined when none does. Names are case-insensitive; keys are not. */
export function resolveField(path: readonly string[]): Field | undefined {
  const [head = '', ...rest] = path;
  const name = head.toLowerCase();
  if (rest.length === 0) return fields.get(name);
  const key = rest.join('.');
  if (name === 'tag') return { kind: 'tag', name: `tag.${key}`, type: 'tag', key };
  if (name === 'telemetry')
    return { kind: 'telemetry', name: `telemetry.${key}`, type: 'number', metric: key };
  return undefined;
}

/** Every name a suggestion may offer. */
export function knownFieldNames(): string[] {
  return [...fields.keys(), ...fieldPrefixes.map((prefix) => `${prefix}.<key>`)];
}
