/**
 * Keeps each device's `config/desired` up to date: resolves its effective document (defaults it
 * belongs to, its own document, checked against its schema), records and publishes a new version
 * when that changed, and takes the device's reports. One device's work runs in order
 * (KeyedSerialQueue), so two changes never publish versions out of order.
 */
import type { Logger } from 'pino';
import type { ConfigDesired, ConfigReported } from '../contracts/config-messages.ts';
import type { Clock } from '../infra/clock.ts';
import { KeyedSerialQueue } from '../infra/keyed-queue.ts';
import type { DeviceConfigRecord, DeviceConfigStore } from '../store/device-config-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { DeviceSelection } from './device-selection.ts';
import { groupQuery } from './device-selection.ts';
import { resolveConfig, type ResolvedConfig } from './effective.ts';
import { sameValues } from './merge.ts';

export interface ConfigPublisherDeps {
  store: DeviceConfigStore;
  selection: Pick<DeviceSelection, 'matches'>;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /** Publishes on `fl/d/{id}/config/desired`, QoS 1, retained. */
  publish(deviceId: string, desired: ConfigDesired): Promise<void>;
}

export function createConfigPublisher(deps: ConfigPublisherDeps) {
  const { store, clock } = deps;
  const queue = new KeyedSerialQueue();

  /** The device's effective document now (nothing stored or sent). */
  async function resolve(deviceId: string, record: DeviceConfigRecord | undefined): Promise<ResolvedConfig> {
    const defaults = await store.listDefaults();
    const fleet = defaults.find((doc) => doc.scope === 'fleet');
    const groups = [];
    for (const doc of defaults) {
      if (doc.scope === 'group' && (await deps.selection.matches(deviceId, groupQuery(doc.name))))
        groups.push({ name: doc.name, priority: doc.priority, values: doc.values });
    }
    return resolveConfig({
      ...(fleet ? { fleet: fleet.values } : {}),
      groups,
      ...(record ? { device: record.desired.values } : {}),
      schema: record?.schema?.schema,
    });
  }

  /**
   * Sends the device a new version when its effective document changed (only once it declared a
   * schema), or the current one again when the device reports a version below it.
   */
  async function syncNow(deviceId: string, reportedVersion?: number): Promise<ConfigDesired> {
    const record = await store.getDevice(deviceId);
    const current: ConfigDesired = { version: record?.sent.version ?? 0, values: record?.sent.values ?? {} };
    if (!record?.schema) return current;
    const resolved = await resolve(deviceId, record);
    // A device ahead of the store (a restored backup) must still see the next version as newer.
    const ahead = reportedVersion !== undefined && reportedVersion > current.version;
    if (current.version === 0 || ahead || !sameValues(resolved.values, current.values)) {
      const version = await store.recordSent(deviceId, resolved.values, reportedVersion ?? 0, clock.now());
      const desired = { version, values: resolved.values };
      await deps.publish(deviceId, desired);
      deps.logger.debug({ deviceId, version }, 'config desired published');
      return desired;
    }
    // Retained messages do not survive a broker restart: a device that is behind gets it again.
    if (reportedVersion !== undefined && reportedVersion < current.version)
      await deps.publish(deviceId, current);
    return current;
  }

  return {
    resolve,
    /** See syncNow; queued per device. */
    sync: (deviceId: string) => queue.run(deviceId, () => syncNow(deviceId)),
    /** A device's report (with its schema on connect): stored, then the device is brought up to date. */
    reported(deviceId: string, report: ConfigReported): Promise<ConfigDesired> {
      return queue.run(deviceId, async () => {
        const atMs = clock.now();
        const previous = await store.getDevice(deviceId);
        if (report.schema) await store.putSchema(deviceId, report.schema, atMs);
        const rest = { ...report };
        delete rest.schema;
        await store.putReported(deviceId, rest, atMs);
        // A new version processed, or restart keys applied by a restart: worth an audit entry.
        const before = previous?.reported?.report;
        const processedNew =
          before?.version !== report.version ||
          before.pendingRestart.join(',') !== report.pendingRestart.join(',');
        if (processedNew && (report.version > 0 || report.rejected.length > 0)) {
          await deps.audit.appendAudit({
            atMs,
            actor: `device:${deviceId}`,
            action: report.rejected.length > 0 ? 'config.rejected' : 'config.applied',
            target: deviceId,
            source: 'device',
            details: {
              version: report.version,
              pendingRestart: report.pendingRestart,
              rejected: report.rejected,
            },
          });
        }
        return syncNow(deviceId, report.version);
      });
    },
    /** The document the device should have now (what `GET /device/v1/config` answers). */
    desired: (deviceId: string) => queue.run(deviceId, () => syncNow(deviceId)),
    drain: () => queue.drain(),
  };
}

export type ConfigPublisher = ReturnType<typeof createConfigPublisher>;
