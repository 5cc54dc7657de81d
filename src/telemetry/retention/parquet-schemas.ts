/**
 * The Parquet schemas of archived telemetry and the column data of a page of rows. Times are INT64
 * ms since the epoch, values DOUBLE, names UTF-8 strings; the window kind and the day are in the
 * file's path (Hive partitions), not in the file.
 */
import type { ColumnSource, ParquetWriter } from 'hyparquet-writer';
import type { RawWindowRecord } from '../../store/telemetry-retention-types.ts';
import type { StoredEvent } from '../../store/telemetry-types.ts';

/** The writer's own schema type (it may bundle another hyparquet version than the reader). */
export type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const required = 'REQUIRED' as const;
const text = (name: string, optional = false): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: optional ? 'OPTIONAL' : required,
});
const int64 = (name: string): SchemaElement => ({ name, type: 'INT64', repetition_type: required });
const double = (name: string): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: required });

const windowFields = [
  text('device_id'),
  text('metric'),
  int64('start_ms'),
  int64('end_ms'),
  double('min'),
  double('max'),
  double('avg'),
  int64('count'),
  double('last'),
];

const eventFields = [
  text('device_id'),
  int64('seq'),
  int64('at_ms'),
  text('type'),
  text('severity'),
  text('code'),
  text('message', true),
];

export const windowSchema: SchemaElement[] = [
  { name: 'root', num_children: windowFields.length },
  ...windowFields,
];
export const eventSchema: SchemaElement[] = [
  { name: 'root', num_children: eventFields.length },
  ...eventFields,
];

export function windowColumns(rows: readonly RawWindowRecord[]): ColumnSource[] {
  return [
    { name: 'device_id', data: rows.map((r) => r.deviceId), nullable: false },
    { name: 'metric', data: rows.map((r) => r.metric), nullable: false },
    { name: 'start_ms', data: rows.map((r) => BigInt(r.startMs)), nullable: false },
    { name: 'end_ms', data: rows.map((r) => BigInt(r.endMs)), nullable: false },
    { name: 'min', data: rows.map((r) => r.min), nullable: false },
    { name: 'max', data: rows.map((r) => r.max), nullable: false },
    { name: 'avg', data: rows.map((r) => r.avg), nullable: false },
    { name: 'count', data: rows.map((r) => BigInt(r.count)), nullable: false },
    { name: 'last', data: rows.map((r) => r.last), nullable: false },
  ];
}

export function eventColumns(rows: readonly StoredEvent[]): ColumnSource[] {
  return [
    { name: 'device_id', data: rows.map((e) => e.deviceId), nullable: false },
    { name: 'seq', data: rows.map((e) => BigInt(e.seq)), nullable: false },
    { name: 'at_ms', data: rows.map((e) => BigInt(e.atMs)), nullable: false },
    { name: 'type', data: rows.map((e) => e.type), nullable: false },
    { name: 'severity', data: rows.map((e) => e.severity), nullable: false },
    { name: 'code', data: rows.map((e) => e.code), nullable: false },
    { name: 'message', data: rows.map((e) => e.message ?? null) },
  ];
}
