/**
 * What a session may publish and subscribe to: a device only its own topics, in the direction the
 * protocol gives them; a claim session only its own provisioning request and response. Pure; the
 * MQTT gateway enforces the verdicts.
 */
import {
  cloudToDevice,
  deviceTopic,
  parseDeviceTopic,
  provisionTopic,
  type DeviceToCloudSuffix,
} from '../contracts/topics.ts';

export type PublishVerdict =
  /** A known device → cloud topic of the device's own. */
  | { kind: 'accept'; suffix: DeviceToCloudSuffix }
  /** Its own prefix but not a topic it may publish: refused with a notice, connection kept. */
  | { kind: 'reject'; reason: string }
  /** Someone else's topic, or outside the device namespace: the client is disconnected. */
  | { kind: 'deny'; reason: string };

export function authorizeDevicePublish(deviceId: string, topic: string): PublishVerdict {
  const parsed = parseDeviceTopic(topic);
  if (parsed === undefined) return { kind: 'deny', reason: `topic ${topic} is outside fl/d/{id}/` };
  if (parsed.deviceId !== deviceId)
    return { kind: 'deny', reason: `topic ${topic} belongs to another device` };
  switch (parsed.kind) {
    case 'device-to-cloud':
      return { kind: 'accept', suffix: parsed.suffix };
    case 'cloud-to-device':
      return { kind: 'deny', reason: `topic ${topic} is written only by the server` };
    case 'unknown':
      return { kind: 'reject', reason: `unknown topic suffix ${JSON.stringify(parsed.suffix)}` };
  }
}

/** Subscriptions: exactly the device's own cloud → device topics; no wildcards. */
export function authorizeDeviceSubscribe(deviceId: string, topicFilter: string): boolean {
  return cloudToDevice.some((suffix) => deviceTopic(deviceId, suffix) === topicFilter);
}

/** A claim session publishes only its own request; anything else closes it. */
export function authorizeClaimPublish(serial: string, topic: string): boolean {
  return topic === provisionTopic(serial, 'request');
}

export function authorizeClaimSubscribe(serial: string, topicFilter: string): boolean {
  return topicFilter === provisionTopic(serial, 'response');
}
