/**
 * Telemetry over the agent's MQTT session: each batch a QoS 1 PUBLISH on `fl/d/{id}/telemetry`;
 * the server's `TelemetryAck` arrives later on `fl/d/{id}/telemetry/ack` (the agent's
 * `onTelemetryAck`), so a PUBACK alone does not delete a batch: it only means the broker has it.
 */
import type { TelemetryBatch } from '../../contracts/telemetry-messages.ts';
import type { TelemetryTransport } from './sender.ts';

export interface MqttTelemetryLink {
  isConnected(): boolean;
  /** QoS 1; resolves on PUBACK, rejects when not connected. */
  publishTelemetry(batch: TelemetryBatch): Promise<void>;
}

export function mqttTransport(link: () => MqttTelemetryLink | undefined): TelemetryTransport {
  return {
    maxPerSend: 1,
    ready: () => link()?.isConnected() ?? false,
    async send(batches) {
      const current = link();
      if (!current) throw new Error('agent not started');
      for (const batch of batches) await current.publishTelemetry(batch);
      return { acks: [], final: false };
    },
  };
}
