/**
 * Device configuration documents (docs/device-config.md): per device the desired document
 * (operators, versioned for optimistic concurrency), the effective document last sent (its own
 * monotonic version), the device's report and declared schema; and the defaults documents (one
 * fleet-wide, one per group, with a priority). Implemented in sqlite/ and postgres/, checked by
 * test/device-config/device-config-store.contract.ts. The store keeps documents only; merging and
 * validation are src/device-config/'s job.
 */
import type { ConfigReported, ConfigSchema, ConfigValues } from '../contracts/config-messages.ts';

export interface DeviceConfigRecord {
  deviceId: string;
  /** The device's own desired document; version 0 and `{}` until first set. */
  desired: { values: ConfigValues; version: number; updatedAt: string | null };
  /** The effective document last published to the device; version 0 before the first. */
  sent: { values: ConfigValues; version: number; sentAt: string | null };
  /** The device's last report (without its schema). */
  reported?: { report: Omit<ConfigReported, 'schema'>; at: string };
  /** The schema the device declared on its last connect. */
  schema?: { schema: ConfigSchema; at: string };
}

export type DefaultsScope = 'fleet' | 'group';

export interface ConfigDefaults {
  scope: DefaultsScope;
  /** The group's name; `''` for the fleet default. */
  name: string;
  /** Higher wins among groups; the fleet default is always below every group. */
  priority: number;
  values: ConfigValues;
  version: number;
  updatedAt: string;
}

export interface DeviceConfigStore {
  /** Undefined when nothing was ever stored for the device. */
  getDevice(deviceId: string): Promise<DeviceConfigRecord | undefined>;
  /**
   * Replaces the device's desired document and returns its new version. With `expectedVersion`
   * (0: never set) ConflictError when the stored version differs; nothing is written then.
   */
  putDesired(
    deviceId: string,
    values: ConfigValues,
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<number>;
  /**
   * Records the effective document published to the device; its version becomes
   * max(stored, atLeast) + 1, which it returns (atLeast: a version the device already reported).
   */
  recordSent(deviceId: string, values: ConfigValues, atLeast: number, atMs: number): Promise<number>;
  putReported(deviceId: string, report: Omit<ConfigReported, 'schema'>, atMs: number): Promise<void>;
  putSchema(deviceId: string, schema: ConfigSchema, atMs: number): Promise<void>;
  /** The fleet default first, then groups by name. */
  listDefaults(): Promise<ConfigDefaults[]>;
  getDefaults(scope: DefaultsScope, name: string): Promise<ConfigDefaults | undefined>;
  /**
   * Creates or replaces a defaults document. With `expectedVersion` (0: must not exist)
   * ConflictError when the stored version differs.
   */
  putDefaults(
    doc: { scope: DefaultsScope; name: string; priority: number; values: ConfigValues },
    expectedVersion: number | undefined,
    atMs: number,
  ): Promise<ConfigDefaults>;
  /** False when there was none. */
  deleteDefaults(scope: DefaultsScope, name: string): Promise<boolean>;
}
