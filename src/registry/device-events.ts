/**
 * Applies device sessions and messages to the registry: connects and disconnects in order per
 * device, reported state, and heartbeats (batched). This is the gateway's DeviceEventHandlers.
 */
import type { RegistryMessage } from '../contracts/device-messages.ts';
import type { DeviceIdentity } from '../gateway/session-identity.ts';
import type { DeviceEventHandlers } from '../gateway/types.ts';
import { KeyedSerialQueue } from '../infra/keyed-queue.ts';
import type { DeviceStore } from '../store/types.ts';
import type { PresenceBatcher } from './presence-batcher.ts';

export interface RegistryEventHandlers extends DeviceEventHandlers {
  /** Waits until every event received so far is written. */
  drain(): Promise<void>;
}

export function createRegistryEventHandlers(deps: {
  store: DeviceStore;
  presence: PresenceBatcher;
}): RegistryEventHandlers {
  const { store, presence } = deps;
  const queue = new KeyedSerialQueue();

  async function onMessage(identity: DeviceIdentity, message: RegistryMessage, atMs: number): Promise<void> {
    switch (message.suffix) {
      case 'heartbeat':
        presence.seen(identity.deviceId, atMs);
        return;
      case 'state/reported': {
        const { seq, serial, firmwareVersion, hardware, region, tags } = message.payload;
        await store.applyReportedState(
          identity.deviceId,
          {
            seq,
            serial,
            firmwareVersion,
            hardwareModel: hardware.model,
            hardwareRevision: hardware.revision,
            region,
            tags,
          },
          atMs,
        );
        return;
      }
    }
  }

  return {
    connected: (identity, atMs) =>
      queue.run(identity.deviceId, async () => {
        await store.recordConnected(identity.deviceId, identity.serial, atMs);
      }),
    disconnected: (identity, atMs) =>
      queue.run(identity.deviceId, () => store.recordDisconnected(identity.deviceId, atMs)),
    message: (identity, message, atMs) =>
      queue.run(identity.deviceId, () => onMessage(identity, message, atMs)),
    drain: () => queue.drain(),
  };
}
