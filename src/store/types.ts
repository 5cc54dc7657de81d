/**
 * The registry store: the one interface the rest of Flotilla uses to read and write devices.
 * Implementations: sqlite/ (embedded default) and postgres/ (scale-out). Both pass the same
 * contract suite in test/store/device-store.contract.ts.
 */
import type { ConnectionState, Device, FleetSummary } from '../contracts/device.ts';
import type { FleetQuery } from '../fleet-query/index.ts';
import type { DeviceSort } from './device-sort.ts';

export interface NewDevice {
  id: string;
  serial: string;
  hardwareModel?: string | null;
  hardwareRevision?: string | null;
  firmwareVersion?: string | null;
  tags?: Record<string, string>;
  region?: string | null;
  owner?: string | null;
}

/** What a device's `state/reported` message changes on its record. */
export interface ReportedState {
  /** Monotonic per device; a report whose seq is not above the stored one is ignored. */
  seq: number;
  serial: string;
  firmwareVersion: string;
  hardwareModel: string;
  hardwareRevision: string;
  region?: string;
  tags?: Record<string, string>;
}

export interface DeviceFilter {
  hardwareModel?: string;
  firmwareVersion?: string;
  connectionState?: ConnectionState;
  /** Every given tag must match exactly. */
  tags?: Record<string, string>;
  /** A parsed fleet query (parseFleetQuery); its durations count back from `nowMs` (ms since epoch). */
  where?: { query: FleetQuery; nowMs: number };
}

/**
 * A rollout's device selector (ota/rollouts/device-selector.ts) plus what the orchestrator adds,
 * for `listDevicesMatching`. Fields are AND-combined; a list matches any of its values.
 */
export interface DeviceSelection {
  /** The release's model: restricts `models` further. */
  hardwareModel?: string;
  models?: readonly string[];
  /** A device without a revision never matches. */
  revisions?: readonly string[];
  firmwareVersions?: readonly string[];
  regions?: readonly string[];
  deviceIds?: readonly string[];
  /** Every given tag must match exactly. */
  tags?: Readonly<Record<string, string>>;
  owner?: string;
  /** Leaves out devices reporting this firmware version (already on the release). */
  notFirmwareVersion?: string;
  /** Only devices created, or whose selectable attributes changed, at or after this time (ms since epoch). */
  changedSinceMs?: number;
  /** A parsed fleet query (a rollout's `selector.where`); its durations count back from `nowMs`. */
  where?: { query: FleetQuery; nowMs: number };
}

/** Operator tags to set (key → value) and to remove (keys); a key is in at most one of them. */
export interface OperatorTagChange {
  set: Readonly<Record<string, string>>;
  remove: readonly string[];
}

export interface PageRequest {
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** 1..1000 */
  limit: number;
}

/** A page of `listDevices`; `sort` absent or `id` keeps the plain id order (and its cursors). */
export interface DevicePageRequest extends PageRequest {
  sort?: DeviceSort;
}

export interface Page<T> {
  items: T[];
  /** Present when more items follow. */
  nextCursor?: string;
}

export interface PresenceUpdate {
  deviceId: string;
  /** ms since epoch */
  lastSeenAt: number;
}

export interface DeviceStore {
  /** Creates a device; ConflictError if the id exists. */
  createDevice(device: NewDevice, nowMs: number): Promise<Device>;
  /** Undefined when unknown. */
  getDevice(id: string): Promise<Device | undefined>;
  /** Ordered by id, or by `page.sort` (keyset on sort key and id, devices without the value last). */
  listDevices(filter: DeviceFilter, page: DevicePageRequest): Promise<Page<Device>>;
  /** The devices a selection matches, ordered by id (keyset pages, like listDevices). */
  listDevicesMatching(selection: DeviceSelection, page: PageRequest): Promise<Page<Device>>;
  /** How many devices the filter matches (dry runs of group operations, the dashboard). */
  countDevices(filter: DeviceFilter): Promise<number>;
  fleetSummary(): Promise<FleetSummary>;

  /**
   * A device connected with a valid certificate: creates its record if it is new (serial from the
   * certificate), marks it online and seen. Returns the record.
   */
  recordConnected(deviceId: string, serial: string, atMs: number): Promise<Device>;
  /** Marks a device offline; ignored when it connected again after `atMs` (out-of-order events). */
  recordDisconnected(deviceId: string, atMs: number): Promise<void>;
  /** Batched last-seen updates (heartbeats); never moves last-seen backwards. */
  recordSeen(updates: PresenceUpdate[]): Promise<void>;
  /** Applies a state report; returns false when it was stale (seq not above the stored one). NotFoundError if unknown. */
  applyReportedState(deviceId: string, state: ReportedState, atMs: number): Promise<boolean>;
  /**
   * Sets and removes operator tags on these devices (group operations). A device's `tags` are its
   * reported tags overlaid with its operator tags, so removing an operator tag uncovers a reported
   * value of the same key. Unknown ids are skipped. Returns how many devices changed.
   */
  updateOperatorTags(deviceIds: readonly string[], change: OperatorTagChange, atMs: number): Promise<number>;
  /** At start-up: nobody is connected to a broker that just started. Returns how many changed. */
  markAllOffline(atMs: number): Promise<number>;
  /** Firmware versions devices of `hardwareModel` report, with how many devices run each. */
  installedVersions(hardwareModel: string): Promise<Map<string, number>>;

  close(): Promise<void>;
}
