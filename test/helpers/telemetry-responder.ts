/**
 * A stand-in for the server's telemetry ingest (built in parallel in the server; until it is
 * wired, the embedded broker refuses telemetry): validates each batch with the contract's schema,
 * stores it once per (device, seq) and answers with a TelemetryAck, over MQTT on a plain
 * Mosquitto listener, or as the body of `POST /device/v1/telemetry`.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  telemetryBatchSchema,
  type TelemetryAck,
  type TelemetryBatch,
} from '../../src/contracts/telemetry-messages.ts';
import { parseDeviceTopic } from '../../src/contracts/topics.ts';

export interface IngestStandIn {
  /** Every batch received, in arrival order (resends included). */
  received: { deviceId: string; seq: number }[];
  /** Stored once per (device, seq). */
  stored: Map<string, Map<number, TelemetryBatch>>;
  receive(deviceId: string, raw: unknown): TelemetryAck;
  /** Seqs stored for a device, ascending. */
  seqs(deviceId: string): number[];
}

export function createIngestStandIn(): IngestStandIn {
  const received: IngestStandIn['received'] = [];
  const stored = new Map<string, Map<number, TelemetryBatch>>();
  return {
    received,
    stored,
    receive(deviceId, raw) {
      const parsed = telemetryBatchSchema.safeParse(raw);
      const seq = (raw as { seq?: unknown } | null)?.seq;
      if (!parsed.success) {
        return {
          seq: typeof seq === 'number' && seq >= 0 ? Math.floor(seq) : 0,
          outcome: 'invalid',
          accepted: 0,
          rejected: [{ path: '', reason: 'invalid', message: parsed.error.issues[0]?.message ?? '' }],
        };
      }
      const batch = parsed.data;
      received.push({ deviceId, seq: batch.seq });
      let device = stored.get(deviceId);
      if (!device) stored.set(deviceId, (device = new Map<number, TelemetryBatch>()));
      const records =
        batch.windows.reduce((n, w) => n + Object.keys(w.values).length, 0) + batch.events.length;
      if (device.has(batch.seq)) return { seq: batch.seq, outcome: 'duplicate', accepted: 0, rejected: [] };
      device.set(batch.seq, batch);
      return { seq: batch.seq, outcome: 'stored', accepted: records, rejected: [] };
    },
    seqs: (deviceId) => [...(stored.get(deviceId)?.keys() ?? [])].sort((a, b) => a - b),
  };
}

export interface MqttResponder {
  ingest: IngestStandIn;
  client: MqttClient;
  /** While false, batches are received (and stored) but no ack is sent: a lost ack. */
  setAcking(on: boolean): void;
  close(): Promise<void>;
}

/** Subscribes to `fl/d/+/telemetry` on a plain listener and acks on `fl/d/{id}/telemetry/ack`. */
export async function startMqttResponder(plainPort: number): Promise<MqttResponder> {
  const ingest = createIngestStandIn();
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${plainPort}`, { reconnectPeriod: 100 });
  let acking = true;
  client.on('message', (topic, payload) => {
    const parsed = parseDeviceTopic(topic);
    if (parsed?.suffix !== 'telemetry') return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const ack = ingest.receive(parsed.deviceId, raw);
    if (!acking) return;
    client.publish(`fl/d/${parsed.deviceId}/telemetry/ack`, JSON.stringify(ack), { qos: 1 });
  });
  await client.subscribeAsync('fl/d/+/telemetry', { qos: 1 });
  return {
    ingest,
    client,
    setAcking: (on) => (acking = on),
    close: () => client.endAsync(true),
  };
}
