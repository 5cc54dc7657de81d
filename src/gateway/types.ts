/**
 * The device gateway as the rest of Flotilla sees it: authenticated device sessions and
 * validated messages, whatever broker carries them (embedded aedes today; an external
 * broker cluster later implements the same interface).
 */
import type { DeviceToCloudMessage, Rejected } from '../contracts/device-messages.ts';
import type { DeviceIdentity } from './device-identity.ts';

/**
 * Callbacks the gateway invokes. A message handler's promise settles before the device gets
 * its PUBACK (QoS 1), so a message is acknowledged only once it has been handled.
 */
export interface DeviceEventHandlers {
  connected(identity: DeviceIdentity, atMs: number): Promise<void>;
  disconnected(identity: DeviceIdentity, atMs: number): Promise<void>;
  message(identity: DeviceIdentity, message: DeviceToCloudMessage, atMs: number): Promise<void>;
}

export interface DeviceGateway {
  start(): Promise<void>;
  /** Closes every device connection and the listener. */
  stop(): Promise<void>;
  /** The port it listens on (useful when configured as 0). */
  port(): number;
  connectedDevices(): number;
  /** Tells a device why one of its messages was refused. */
  sendRejected(deviceId: string, rejected: Rejected): Promise<void>;
}
