/** Prometheus metrics of the device gateway. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface GatewayMetrics {
  connectedDevices: Gauge;
  refusedConnections: Counter<'reason'>;
  refusedMessages: Counter<'reason'>;
  messages: Counter<'topic'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    connectedDevices: new Gauge({
      name: 'flotilla_gateway_connected_devices',
      help: 'Devices with a live MQTT session',
      registers: [registry],
    }),
    refusedConnections: new Counter({
      name: 'flotilla_gateway_refused_connections_total',
      help: 'Connections refused: tls (handshake, no or bad certificate), certificate, identity',
      labelNames: ['reason'],
      registers: [registry],
    }),
    refusedMessages: new Counter({
      name: 'flotilla_gateway_refused_messages_total',
      help: 'Publishes and subscriptions refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'flotilla_gateway_messages_total',
      help: 'Valid device messages handled, by topic suffix',
      labelNames: ['topic'],
      registers: [registry],
    }),
  };
}
