/**
 * The device gateway as the rest of Flotilla sees it: authenticated sessions and validated
 * messages, whatever broker carries them (embedded aedes today; an external broker cluster later
 * implements the same interface).
 */
import type { RegistryMessage, Rejected } from '../contracts/device-messages.ts';
import type { ProvisionResponse, RenewRequest } from '../contracts/provisioning-messages.ts';
import type { JobStatus } from '../contracts/job-messages.ts';
import type { CloudToDeviceSuffix } from '../contracts/topics.ts';
import type { UpdateStatus, UpdateStatusResponse } from '../contracts/update-messages.ts';
import type { IngestResult, UploadResult } from '../telemetry/telemetry-ingest.ts';
import type { ClaimIdentity, DeviceIdentity, SessionIdentity } from './session-identity.ts';

/**
 * Registry callbacks. A message handler's promise settles before the device gets its PUBACK
 * (QoS 1), so a message is acknowledged only once it has been handled.
 */
export interface DeviceEventHandlers {
  connected(identity: DeviceIdentity, atMs: number): Promise<void>;
  disconnected(identity: DeviceIdentity, atMs: number): Promise<void>;
  message(identity: DeviceIdentity, message: RegistryMessage, atMs: number): Promise<void>;
}

/** Provisioning over MQTT: the gateway carries the request and publishes the response. */
export interface ProvisioningHandlers {
  /** `payload` is the raw request body; the handler validates it (the same handler serves HTTPS). */
  provision(
    claim: ClaimIdentity,
    payload: Buffer,
    context: { atMs: number; source: string },
  ): Promise<ProvisionResponse>;
  renew(
    device: DeviceIdentity,
    request: RenewRequest,
    context: { atMs: number; source: string },
  ): Promise<ProvisionResponse>;
}

/** Firmware update statuses (`update/status`), the same handler as `POST /device/v1/update/status`. */
export interface UpdateStatusHandler {
  status(device: DeviceIdentity, status: UpdateStatus): Promise<UpdateStatusResponse>;
}

/**
 * Telemetry ingest (`telemetry` topic and `POST /device/v1/telemetry`): settles once the batch is
 * durably stored, with the ack to send; rejects when it could not be stored (no ack: resend).
 */
export interface TelemetryHandler {
  /** One decoded JSON payload. */
  ingest(device: DeviceIdentity, json: unknown): Promise<IngestResult>;
  /** The `batches` of an HTTPS upload, in order. */
  ingestUpload(device: DeviceIdentity, batches: readonly unknown[]): Promise<UploadResult>;
}

/**
 * Remote jobs (`jobs/status`): capabilities are stored, progress moves the execution. Settles once
 * written (the PUBACK follows); stale or duplicate reports are ignored, not refused.
 */
export interface JobStatusHandler {
  status(device: DeviceIdentity, status: JobStatus, atMs: number): Promise<void>;
}

/** Credential checks at connect time. */
export interface CredentialChecks {
  /** Why this identity may not connect (revoked device or certificate), or undefined. */
  refusal(identity: SessionIdentity): string | undefined;
  /** The device's serial when `token` is its valid, unrevoked token. */
  verifyToken(deviceId: string, token: string): Promise<{ serial: string } | undefined>;
}

export interface GatewayHandlers {
  registry: DeviceEventHandlers;
  provisioning: ProvisioningHandlers;
  credentials: CredentialChecks;
  updates: UpdateStatusHandler;
  telemetry: TelemetryHandler;
  jobs: JobStatusHandler;
}

export interface DeviceGateway {
  start(): Promise<void>;
  /** Closes every session and the listener. */
  stop(): Promise<void>;
  /** The port it listens on (useful when configured as 0). */
  port(): number;
  connectedDevices(): number;
  /** Tells a device why one of its messages was refused. */
  sendRejected(deviceId: string, rejected: Rejected): Promise<void>;
  /**
   * Publishes a cloud → device message (QoS 1). `retain`: the broker keeps it for the topic, so
   * a device subscribing later (after a reconnect) receives the latest one.
   */
  publishToDevice(
    deviceId: string,
    suffix: CloudToDeviceSuffix,
    payload: unknown,
    options: { retain: boolean },
  ): Promise<void>;
  /** Closes the device's live session, if any (revocation). Returns whether one was closed. */
  disconnectDevice(deviceId: string): boolean;
}
