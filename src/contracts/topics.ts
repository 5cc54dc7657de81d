/**
 * The MQTT topic map: every topic a device or the server uses, in one place.
 * A device may only use topics under `fl/d/{its own id}/` (enforced by the gateway
 * from the certificate subject). See docs/architecture.md, "Device protocol".
 */

export const TOPIC_ROOT = 'fl/d';

/** Device → cloud topics (the suffix after `fl/d/{id}/`). */
export const deviceToCloud = [
  'state/reported',
  'heartbeat',
  'certificate/renew',
  'update/status',
  'telemetry',
  'jobs/status',
] as const;
export type DeviceToCloudSuffix = (typeof deviceToCloud)[number];

/** Cloud → device topics a device may subscribe to. */
export const cloudToDevice = [
  'rejected',
  'certificate/issued',
  'update/notify',
  'telemetry/ack',
  'jobs/notify',
] as const;
export type CloudToDeviceSuffix = (typeof cloudToDevice)[number];

/** Largest payload the gateway accepts on any device topic, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Device ids: what a certificate CN may name. Also safe inside a topic level. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function deviceTopic(deviceId: string, suffix: DeviceToCloudSuffix | CloudToDeviceSuffix): string {
  return `${TOPIC_ROOT}/${deviceId}/${suffix}`;
}

/** The prefix every topic of one device starts with, including the trailing slash. */
export function devicePrefix(deviceId: string): string {
  return `${TOPIC_ROOT}/${deviceId}/`;
}

export type ParsedDeviceTopic =
  | { kind: 'device-to-cloud'; deviceId: string; suffix: DeviceToCloudSuffix }
  | { kind: 'cloud-to-device'; deviceId: string; suffix: CloudToDeviceSuffix }
  | { kind: 'unknown'; deviceId: string; suffix: string };

/** Splits `fl/d/{id}/{suffix}`; undefined when the topic is not a device topic at all. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | undefined {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const deviceId = rest.slice(0, slash);
  const suffix = rest.slice(slash + 1);
  if ((deviceToCloud as readonly string[]).includes(suffix)) {
    return { kind: 'device-to-cloud', deviceId, suffix: suffix as DeviceToCloudSuffix };
  }
  if ((cloudToDevice as readonly string[]).includes(suffix)) {
    return { kind: 'cloud-to-device', deviceId, suffix: suffix as CloudToDeviceSuffix };
  }
  return { kind: 'unknown', deviceId, suffix };
}

/**
 * Provisioning topics of a claim session: the MQTT client id is the device's serial, and the
 * session may only publish its request and subscribe to its response.
 */
export const PROVISION_ROOT = 'fl/provision';

export function provisionTopic(serial: string, kind: 'request' | 'response'): string {
  return `${PROVISION_ROOT}/${serial}/${kind}`;
}
