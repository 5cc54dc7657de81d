/**
 * The `devices` row shape both stores share, and its mapping to the API's `Device`. The SQL
 * dialects differ only in how they hold times (epoch ms vs timestamptz) and tags (JSON text vs
 * jsonb), so those two decoders are passed in.
 */
import { connectionStateSchema, type Device } from '../contracts/device.ts';
import { isoTime } from '../infra/clock.ts';
import { ConflictError } from '../infra/errors.ts';

/** Every column a `Device` is built from, in the order both stores select them. */
export const deviceColumns =
  'id, serial, hardware_model, hardware_revision, firmware_version, tags, region, owner, ' +
  'created_at, last_seen_at, connection_state, connection_changed_at';

export interface DeviceRow<Time, Tags> {
  id: string;
  serial: string;
  hardware_model: string | null;
  hardware_revision: string | null;
  firmware_version: string | null;
  tags: Tags;
  region: string | null;
  owner: string | null;
  created_at: Time;
  last_seen_at: Time | null;
  connection_state: string;
  connection_changed_at: Time | null;
}

export interface RowDecoders<Time, Tags> {
  /** ms since epoch */
  timeMs(value: Time): number;
  tags(value: Tags): Record<string, string>;
}

export function deviceFromRow<Time, Tags>(
  row: DeviceRow<Time, Tags>,
  decode: RowDecoders<Time, Tags>,
): Device {
  const time = (value: Time | null) => (value === null ? null : isoTime(decode.timeMs(value)));
  return {
    id: row.id,
    serial: row.serial,
    hardwareModel: row.hardware_model,
    hardwareRevision: row.hardware_revision,
    firmwareVersion: row.firmware_version,
    tags: decode.tags(row.tags),
    region: row.region,
    owner: row.owner,
    createdAt: isoTime(decode.timeMs(row.created_at)),
    lastSeenAt: time(row.last_seen_at),
    // The column has a CHECK constraint; parsing still guards against a hand-edited database.
    connectionState: connectionStateSchema.parse(row.connection_state),
    connectionChangedAt: time(row.connection_changed_at),
  };
}

/** Which unique key a rejected insert collided with. */
export type DeviceKey = 'id' | 'serial';

export function deviceConflict(key: DeviceKey, device: { id: string; serial: string }): ConflictError {
  return key === 'id'
    ? new ConflictError(`device ${device.id} already exists`, { deviceId: device.id })
    : new ConflictError(`serial ${device.serial} belongs to another device`, {
        deviceId: device.id,
        serial: device.serial,
      });
}
