/**
 * A fixed fleet for the fleet-query contract: eight devices whose fields, connection history and
 * latest telemetry cover every field type, null values and semver corner cases. Times are fixed
 * so `offline_for` and `age` are exact.
 */
import type { DeviceStore, NewDevice } from '../../src/store/types.ts';

export const t0 = Date.UTC(2026, 10, 1);
const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
/** The queries' reference time: ten days after the fleet was created. */
export const nowMs = t0 + 10 * dayMs;

export interface TelemetryRow {
  deviceId: string;
  metric: string;
  value: number;
}

/** How the test writes latest telemetry values (`telemetry_latest`, owned by the telemetry store). */
export type AddTelemetry = (rows: readonly TelemetryRow[]) => Promise<void>;

type History = { online: true } | { offlineSeenAgoMs: number } | { neverSeen: true };

const fleet: Array<NewDevice & { history: History; createdAtMs?: number }> = [
  {
    id: 'd01',
    serial: 'sn-d01',
    hardwareModel: 'tracker-2',
    hardwareRevision: 'B',
    firmwareVersion: '2.3.9',
    region: 'eu-west',
    tags: { ring: 'beta', site: 'berlin' },
    history: { offlineSeenAgoMs: 48 * hourMs },
  },
  {
    id: 'd02',
    serial: 'sn-d02',
    hardwareModel: 'tracker-2',
    hardwareRevision: 'A',
    firmwareVersion: '2.4.0',
    region: 'eu-north',
    tags: { ring: 'stable' },
    history: { online: true },
  },
  {
    id: 'd03',
    serial: 'sn-d03',
    hardwareModel: 'tracker-2',
    hardwareRevision: 'B',
    firmwareVersion: '2.4.0-rc.1',
    region: 'eu-west',
    history: { offlineSeenAgoMs: 2 * hourMs },
  },
  {
    id: 'd04',
    serial: 'sn-d04',
    hardwareModel: 'tracker-2',
    hardwareRevision: 'B',
    firmwareVersion: '2.10.0',
    region: 'us-east',
    tags: { ring: 'beta' },
    history: { online: true },
  },
  {
    id: 'd05',
    serial: 'sn-d05',
    hardwareModel: 'sensor-1',
    firmwareVersion: '1.0.0+build.7',
    region: 'eu-west',
    owner: 'acme',
    history: { neverSeen: true },
  },
  {
    id: 'd06',
    serial: 'sn-d06',
    hardwareModel: 'sensor-1',
    firmwareVersion: 'custom-build',
    tags: { 'odd key': 'x"y' },
    history: { online: true },
  },
  {
    id: 'd07',
    serial: 'sn-d07',
    hardwareModel: 'tracker-2',
    hardwareRevision: 'A',
    firmwareVersion: '2.9.0',
    region: 'eu-north',
    history: { offlineSeenAgoMs: 30 * hourMs },
  },
  {
    id: 'd08',
    serial: 'sn-d08',
    hardwareModel: 'tracker-2',
    owner: 'acme',
    history: { neverSeen: true },
    createdAtMs: t0 + 9 * dayMs,
  },
];

const telemetry: TelemetryRow[] = [
  { deviceId: 'd01', metric: 'battery_pct', value: 15 },
  { deviceId: 'd01', metric: 'signal_dbm', value: -95 },
  { deviceId: 'd02', metric: 'battery_pct', value: 10 },
  { deviceId: 'd03', metric: 'battery_pct', value: 50 },
  { deviceId: 'd04', metric: 'signal_dbm', value: -70 },
  { deviceId: 'd07', metric: 'battery_pct', value: 19.5 },
  { deviceId: 'd07', metric: 'temperature_c', value: 40 },
];

export const allIds = fleet.map((device) => device.id);

export async function createFleet(store: DeviceStore, addTelemetry: AddTelemetry): Promise<void> {
  for (const { history, createdAtMs, ...device } of fleet) {
    await store.createDevice(device, createdAtMs ?? t0);
    if ('online' in history) {
      await store.recordConnected(device.id, device.serial, nowMs - hourMs);
    } else if ('offlineSeenAgoMs' in history) {
      const seenAt = nowMs - history.offlineSeenAgoMs;
      await store.recordConnected(device.id, device.serial, seenAt - hourMs);
      await store.recordSeen([{ deviceId: device.id, lastSeenAt: seenAt }]);
      await store.recordDisconnected(device.id, seenAt);
    }
  }
  await addTelemetry(telemetry);
}
