/**
 * The embedded MQTT broker (aedes) behind a TLS listener that requires client certificates
 * from the fleet CA. Enforces device identity and topic ownership, validates payloads, and
 * hands authenticated sessions and messages to the DeviceEventHandlers.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { deviceTopic } from '../../contracts/topics.ts';
import type { Rejected } from '../../contracts/device-messages.ts';
import { identityFromCertificate, type DeviceIdentity } from '../device-identity.ts';
import { authorizeDevicePublish, authorizeDeviceSubscribe } from '../device-acl.ts';
import { decodeDeviceMessage } from '../payload.ts';
import type { DeviceEventHandlers, DeviceGateway } from '../types.ts';
import type { GatewayMetrics } from '../metrics.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tls: { caPem: string; certPem: string; keyPem: string };
  /** A TLS handshake not finished within this time is dropped. */
  handshakeTimeoutMs?: number;
}

export interface EmbeddedBrokerDeps {
  clock: Clock;
  logger: Logger;
  handlers: DeviceEventHandlers;
  metrics: GatewayMetrics;
}

const NOT_AUTHORIZED = 5;

function authError(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: NOT_AUTHORIZED });
}

export async function createEmbeddedBroker(
  deps: EmbeddedBrokerDeps,
  options: EmbeddedBrokerOptions,
): Promise<DeviceGateway> {
  const { clock, logger, handlers, metrics } = deps;
  const identities = new WeakMap<Client, DeviceIdentity>();
  /** The live session of each device: a superseded session's disconnect must not mark it offline. */
  const sessions = new Map<string, Client>();

  const broker = await Aedes.createBroker({
    authenticate(client, _username, _password, done) {
      const socket = client.conn as TLSSocket;
      if (!socket.authorized) {
        metrics.refusedConnections.inc({ reason: 'certificate' });
        done(authError('client certificate not verified'), false);
        return;
      }
      const result = identityFromCertificate(socket.getPeerCertificate(), client.id);
      if (!result.ok) {
        metrics.refusedConnections.inc({ reason: 'identity' });
        logger.warn({ clientId: client.id, reason: result.reason }, 'mqtt connection refused');
        done(authError(result.reason), false);
        return;
      }
      identities.set(client, result.identity);
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      const identity = client ? identities.get(client) : undefined;
      if (!identity) return done(new Error('not authenticated'));
      const verdict = authorizeDevicePublish(identity.deviceId, packet.topic);
      switch (verdict.kind) {
        case 'deny':
          // MQTT 3.1.1 has no PUBACK reason code: the only refusal is to close the connection.
          metrics.refusedMessages.inc({ reason: 'topic_denied' });
          logger.warn(
            { deviceId: identity.deviceId, topic: packet.topic, reason: verdict.reason },
            'publish denied; disconnecting',
          );
          return done(new Error(verdict.reason));
        case 'reject':
          metrics.refusedMessages.inc({ reason: 'unknown_topic' });
          reject(identity, { topic: packet.topic, code: 'unknown_topic', message: verdict.reason });
          return done(null);
        case 'accept':
          handleAccepted(identity, verdict.suffix, packet).then(
            () => done(null),
            (err: unknown) => {
              // Not acknowledged: the device keeps the message and sends it again after reconnecting.
              logger.error(
                { err, deviceId: identity.deviceId, topic: packet.topic },
                'handling a device message failed',
              );
              done(err instanceof Error ? err : new Error(String(err)));
            },
          );
          return undefined;
      }
    },

    authorizeSubscribe(client, subscription: Subscription, done) {
      const identity = identities.get(client);
      if (identity && authorizeDeviceSubscribe(identity.deviceId, subscription.topic))
        return done(null, subscription);
      metrics.refusedMessages.inc({ reason: 'subscribe_denied' });
      logger.warn({ deviceId: identity?.deviceId, topic: subscription.topic }, 'subscription denied');
      // A null subscription answers SUBACK 0x80 (failure) and keeps the connection.
      return done(null, null);
    },
  });

  async function handleAccepted(
    identity: DeviceIdentity,
    suffix: Parameters<typeof decodeDeviceMessage>[0],
    packet: PublishPacket,
  ): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const decoded = decodeDeviceMessage(suffix, payload);
    if (!decoded.ok) {
      metrics.refusedMessages.inc({ reason: decoded.code });
      reject(identity, { topic: packet.topic, code: decoded.code, message: decoded.message });
      return;
    }
    metrics.messages.inc({ topic: suffix });
    await handlers.message(identity, decoded.message, clock.now());
  }

  function reject(identity: DeviceIdentity, rejected: Rejected): void {
    logger.warn({ deviceId: identity.deviceId, ...rejected }, 'device message rejected');
    publish(identity.deviceId, rejected).catch((err: unknown) =>
      logger.warn({ err }, 'could not send rejection'),
    );
  }

  function publish(deviceId: string, rejected: Rejected): Promise<void> {
    return new Promise((resolve, reject) => {
      broker.publish(
        {
          cmd: 'publish',
          topic: deviceTopic(deviceId, 'rejected'),
          payload: Buffer.from(JSON.stringify(rejected)),
          qos: 1,
          retain: false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  broker.on('client', (client) => {
    const identity = identities.get(client);
    if (!identity) return;
    sessions.set(identity.deviceId, client);
    metrics.connectedDevices.set(sessions.size);
    handlers
      .connected(identity, clock.now())
      .catch((err: unknown) =>
        logger.error({ err, deviceId: identity.deviceId }, 'recording a connect failed'),
      );
  });

  broker.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (!identity || sessions.get(identity.deviceId) !== client) return;
    sessions.delete(identity.deviceId);
    metrics.connectedDevices.set(sessions.size);
    handlers
      .disconnected(identity, clock.now())
      .catch((err: unknown) =>
        logger.error({ err, deviceId: identity.deviceId }, 'recording a disconnect failed'),
      );
  });

  broker.on('clientError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error'),
  );
  broker.on('connectionError', (client, err) =>
    logger.debug({ clientId: client.id, err: err.message }, 'mqtt connection error'),
  );

  const server: Server = createServer(
    {
      ca: options.tls.caPem,
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    },
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
      logger.info(
        { port: (server.address() as AddressInfo).port },
        'mqtt gateway listening (TLS, client certificates required)',
      );
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
    port: () => (server.address() as AddressInfo).port,
    connectedDevices: () => sessions.size,
    sendRejected: publish,
  };
}
