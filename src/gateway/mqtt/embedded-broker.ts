/**
 * The embedded MQTT broker (aedes) behind a TLS listener. Authenticates sessions (device
 * certificate, claim certificate or device token), enforces topic ownership, validates payloads,
 * and hands sessions and messages to the registry and provisioning handlers.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import {
  deviceTopic,
  MAX_PAYLOAD_BYTES,
  provisionTopic,
  type DeviceToCloudSuffix,
} from '../../contracts/topics.ts';
import type { Rejected } from '../../contracts/device-messages.ts';
import type { ClaimIdentity, DeviceIdentity, SessionIdentity } from '../session-identity.ts';
import {
  authorizeClaimPublish,
  authorizeClaimSubscribe,
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
} from '../device-acl.ts';
import { decodeDeviceMessage, parseJsonPayload } from '../payload.ts';
import type { DeviceGateway, GatewayHandlers } from '../types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { authenticateSession } from './authenticate.ts';
import { deviceTlsOptions, type DeviceTlsMaterial } from '../tls-options.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** `caPem` holds the trust anchors for client certificates (root and issuing CA). */
  tls: DeviceTlsMaterial;
  /** A TLS handshake not finished within this time is dropped. */
  handshakeTimeoutMs?: number;
}

export interface EmbeddedBrokerDeps {
  clock: Clock;
  logger: Logger;
  handlers: GatewayHandlers;
  metrics: GatewayMetrics;
}

const NOT_AUTHORIZED = 5;

function authError(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: NOT_AUTHORIZED });
}

function payloadOf(packet: PublishPacket): Buffer {
  return Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
}

export async function createEmbeddedBroker(
  deps: EmbeddedBrokerDeps,
  options: EmbeddedBrokerOptions,
): Promise<DeviceGateway> {
  const { clock, logger, handlers, metrics } = deps;
  const identities = new WeakMap<Client, SessionIdentity>();
  /** The live session of each device: a superseded session's disconnect must not mark it offline. */
  const sessions = new Map<string, Client>();
  const source = (client: Client) => (client.conn as TLSSocket).remoteAddress ?? 'unknown';

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      authenticateSession(client.conn as TLSSocket, client.id, username, password, handlers.credentials).then(
        (result) => {
          if (!result.ok) {
            metrics.refusedConnections.inc({ reason: result.metric ?? 'identity' });
            logger.warn(
              { clientId: client.id, remote: source(client), reason: result.reason },
              'mqtt connection refused',
            );
            return done(authError(result.reason), false);
          }
          identities.set(client, result.identity);
          return done(null, true);
        },
        (err: unknown) => {
          logger.error({ err, clientId: client.id }, 'authentication failed');
          done(Object.assign(authError('server unavailable'), { returnCode: 3 }), false);
        },
      );
    },

    authorizePublish(client, packet, done) {
      const identity = client ? identities.get(client) : undefined;
      if (!client || !identity) return done(new Error('not authenticated'));
      const handled =
        identity.kind === 'claim'
          ? onClaimPublish(client, identity.claim, packet)
          : onDevicePublish(client, identity.device, packet);
      handled.then(
        () => done(null),
        (err: unknown) => {
          // Not acknowledged: the client is disconnected and sends the message again after reconnecting.
          if (!(err instanceof TopicDenied))
            logger.error({ err, clientId: client.id, topic: packet.topic }, 'handling a message failed');
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },

    authorizeSubscribe(client, subscription: Subscription, done) {
      const identity = identities.get(client);
      const allowed =
        identity?.kind === 'device'
          ? authorizeDeviceSubscribe(identity.device.deviceId, subscription.topic)
          : identity?.kind === 'claim' && authorizeClaimSubscribe(identity.claim.serial, subscription.topic);
      if (allowed) return done(null, subscription);
      metrics.refusedMessages.inc({ reason: 'subscribe_denied' });
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'subscription denied');
      // A null subscription answers SUBACK 0x80 (failure) and keeps the connection.
      return done(null, null);
    },
  });

  class TopicDenied extends Error {}

  function deny(clientId: string, topic: string, reason: string): never {
    // MQTT 3.1.1 has no PUBACK reason code: the only refusal is to close the connection.
    metrics.refusedMessages.inc({ reason: 'topic_denied' });
    logger.warn({ clientId, topic, reason }, 'publish denied; disconnecting');
    throw new TopicDenied(reason);
  }

  async function onClaimPublish(client: Client, claim: ClaimIdentity, packet: PublishPacket): Promise<void> {
    if (!authorizeClaimPublish(claim.serial, packet.topic))
      deny(client.id, packet.topic, 'claim sessions may only publish their provisioning request');
    const payload = payloadOf(packet);
    const response =
      payload.length > MAX_PAYLOAD_BYTES
        ? ({
            status: 'rejected',
            code: 'malformed_request',
            message: `request is ${payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}`,
          } as const)
        : await handlers.provisioning.provision(claim, payload, {
            atMs: clock.now(),
            source: source(client),
          });
    metrics.messages.inc({ topic: `provision/${response.status}` });
    await publishJson(provisionTopic(claim.serial, 'response'), response);
  }

  async function onDevicePublish(
    client: Client,
    device: DeviceIdentity,
    packet: PublishPacket,
  ): Promise<void> {
    const verdict = authorizeDevicePublish(device.deviceId, packet.topic);
    switch (verdict.kind) {
      case 'deny':
        return deny(client.id, packet.topic, verdict.reason);
      case 'reject':
        metrics.refusedMessages.inc({ reason: 'unknown_topic' });
        return reject(device.deviceId, {
          topic: packet.topic,
          code: 'unknown_topic',
          message: verdict.reason,
        });
      case 'accept':
        if (verdict.suffix === 'telemetry') return onTelemetry(device, packet);
        return onDeviceMessage(client, device, verdict.suffix, packet);
    }
  }

  async function onDeviceMessage(
    client: Client,
    device: DeviceIdentity,
    suffix: DeviceToCloudSuffix,
    packet: PublishPacket,
  ): Promise<void> {
    const decoded = decodeDeviceMessage(suffix, payloadOf(packet));
    if (!decoded.ok) {
      metrics.refusedMessages.inc({ reason: decoded.code });
      return reject(device.deviceId, { topic: packet.topic, code: decoded.code, message: decoded.message });
    }
    metrics.messages.inc({ topic: suffix });
    const message = decoded.message;
    if (message.suffix === 'certificate/renew') {
      const response = await handlers.provisioning.renew(device, message.payload, {
        atMs: clock.now(),
        source: source(client),
      });
      return publishJson(deviceTopic(device.deviceId, 'certificate/issued'), response);
    }
    if (message.suffix === 'update/status') {
      // Refused statuses are acknowledged too (a resend would be refused again); the handler
      // re-sends the device its current offer.
      await handlers.updates.status(device, message.payload);
      return;
    }
    if (message.suffix === 'telemetry') return; // handled by onTelemetry
    if (message.suffix === 'jobs/status') return handlers.jobs.status(device, message.payload, clock.now());
    return handlers.registry.message(device, message, clock.now());
  }

  /**
   * A telemetry batch: the ack goes out on `telemetry/ack`, and the PUBACK after it, only once
   * the batch is stored. A payload with a seq that fails its schema is acked `invalid` (the device
   * drops it); one without a seq can only be refused on `rejected`. A store failure throws: no
   * PUBACK, the connection closes, the device sends the batch again.
   */
  async function onTelemetry(device: DeviceIdentity, packet: PublishPacket): Promise<void> {
    const parsed = parseJsonPayload(payloadOf(packet));
    if (!parsed.ok) {
      metrics.refusedMessages.inc({ reason: parsed.code });
      return reject(device.deviceId, { topic: packet.topic, code: parsed.code, message: parsed.message });
    }
    const result = await handlers.telemetry.ingest(device, parsed.json);
    if (result.kind === 'malformed') {
      metrics.refusedMessages.inc({ reason: 'malformed_payload' });
      return reject(device.deviceId, {
        topic: packet.topic,
        code: 'malformed_payload',
        message: result.message,
      });
    }
    metrics.messages.inc({ topic: 'telemetry' });
    await publishJson(deviceTopic(device.deviceId, 'telemetry/ack'), result.ack);
  }

  function reject(deviceId: string, rejected: Rejected): void {
    logger.warn({ deviceId, ...rejected }, 'device message rejected');
    publishJson(deviceTopic(deviceId, 'rejected'), rejected).catch((err: unknown) =>
      logger.warn({ err }, 'could not send rejection'),
    );
  }

  function publishJson(topic: string, body: unknown, retain = false): Promise<void> {
    return new Promise((resolve, reject) => {
      broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.from(JSON.stringify(body)),
          qos: 1,
          retain,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  broker.on('client', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device') return;
    const device = identity.device;
    sessions.set(device.deviceId, client);
    metrics.connectedDevices.set(sessions.size);
    handlers.registry
      .connected(device, clock.now())
      .catch((err: unknown) =>
        logger.error({ err, deviceId: device.deviceId }, 'recording a connect failed'),
      );
  });

  broker.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device' || sessions.get(identity.device.deviceId) !== client) return;
    const device = identity.device;
    sessions.delete(device.deviceId);
    metrics.connectedDevices.set(sessions.size);
    handlers.registry
      .disconnected(device, clock.now())
      .catch((err: unknown) =>
        logger.error({ err, deviceId: device.deviceId }, 'recording a disconnect failed'),
      );
  });

  broker.on('clientError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error'),
  );
  broker.on('connectionError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'mqtt connection error'),
  );

  const server: Server = createServer(
    // authenticateSession refuses every unverified certificate at CONNECT (reason in the log).
    { ...deviceTlsOptions(options.tls), handshakeTimeout: options.handshakeTimeoutMs ?? 10_000 },
    (socket) => broker.handle(socket),
  );
  server.on('tlsClientError', (err, socket) => {
    metrics.refusedConnections.inc({ reason: 'tls' });
    logger.info({ remote: socket.remoteAddress, err: err.message }, 'tls handshake refused');
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      logger.info({ port: (server.address() as AddressInfo).port }, 'mqtt gateway listening (TLS)');
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
    port: () => (server.address() as AddressInfo).port,
    connectedDevices: () => sessions.size,
    sendRejected: (deviceId, rejected) => publishJson(deviceTopic(deviceId, 'rejected'), rejected),
    publishToDevice: (deviceId, suffix, payload, { retain }) =>
      publishJson(deviceTopic(deviceId, suffix), payload, retain),
    disconnectDevice(deviceId) {
      const client = sessions.get(deviceId);
      client?.close();
      return client !== undefined;
    },
  };
}
