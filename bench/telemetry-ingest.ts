/**
 * Sustained telemetry ingest: K device clients (their own certificates, mTLS, MQTT 3.1.1) publish
 * telemetry batches QoS 1 for a fixed time, each with `inFlight` batches awaiting their PUBACK (the
 * agent's default is 8). Flotilla sends the PUBACK only once a batch is stored, so a PUBACK here is
 * a batch stored end to end. Baselines in the same run, same clients and payloads: the same broker
 * on a device topic nothing stores (`fl/d/{id}/bench`, refused with a notice on `rejected`), and
 * Mosquitto on the telemetry topic (it stores nothing).
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { SimIdentity } from '../src/sim/identities.ts';

export interface IngestRun {
  target: string;
  clients: number;
  inFlight: number;
  durationMs: number;
  /** Batches acknowledged (PUBACK) within the duration, and the data points (window × metric) in them. */
  messages: number;
  points: number;
  messagesPerS: number;
  pointsPerS: number;
  /** Broker CPU ms per 1,000 messages. */
  brokerCpuMsPer1000: number;
  /** Rows counted in the store after the run (Flotilla with storage only). */
  storedBatches?: number;
  storedWindowRows?: number;
}

export interface IngestTarget {
  target: string;
  url: string;
  topic: (deviceId: string) => string;
  cpuMs: () => Promise<number>;
}

const HEALTH = ['battery_pct', 'battery_v', 'signal_dbm', 'temperature_c', 'memory_used_pct', 'errors'];
const APP = ['pump.flow_lpm', 'tank.level_pct'];
/** Data points per batch: one health window and one application window. */
export const POINTS_PER_BATCH = HEALTH.length + APP.length;

/** Bytes of one batch as published (with a 13-digit seq). */
export function batchBytes(nowMs: number): number {
  return Buffer.byteLength(`{"seq":1764201600000,${batchBody(nowMs)}`);
}

/** A batch as the agent sends it (one 5-min health window, one 1-min app window), after the seq. */
export function batchBody(nowMs: number): string {
  const end = Math.floor(nowMs / 300_000) * 300_000 - 3_600_000;
  const values = (names: string[]) =>
    Object.fromEntries(names.map((n, i) => [n, { min: i, max: i + 2, avg: i + 1, count: 5, last: i + 1.5 }]));
  const body = {
    sentAtMs: nowMs,
    windows: [
      { kind: 'health', startMs: end - 300_000, endMs: end, values: values(HEALTH) },
      { kind: 'app', startMs: end - 60_000, endMs: end, values: values(APP) },
    ],
  };
  // Spliced after `{"seq":N,`.
  return JSON.stringify(body).slice(1);
}

async function connect(url: string, identity: SimIdentity, caPem: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: identity.deviceId,
    protocolVersion: 4,
    clean: true,
    ca: caPem,
    cert: identity.certPem,
    key: identity.keyPem,
    servername: 'localhost',
    reconnectPeriod: 0,
    keepalive: 300,
  });
}

export async function measureIngest(
  target: IngestTarget,
  identities: readonly SimIdentity[],
  caPem: string,
  options: { inFlight: number; durationMs: number; firstSeq: number },
): Promise<IngestRun> {
  const clients = await Promise.all(identities.map((id) => connect(target.url, id, caPem)));
  const body = batchBody(Date.now());
  let messages = 0;
  const cpuBefore = await target.cpuMs();
  const started = performance.now();
  const deadline = started + options.durationMs;
  try {
    await Promise.all(
      clients.flatMap((client, c) => {
        const identity = identities[c] as SimIdentity;
        const topic = target.topic(identity.deviceId);
        let seq = options.firstSeq;
        return Array.from({ length: options.inFlight }, async () => {
          while (performance.now() < deadline) {
            const payload = `{"seq":${seq++},${body}`;
            await client.publishAsync(topic, payload, { qos: 1 });
            messages += 1;
          }
        });
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.endAsync()));
  }
  const elapsedMs = performance.now() - started;
  const cpuMs = (await target.cpuMs()) - cpuBefore;
  return {
    target: target.target,
    clients: clients.length,
    inFlight: options.inFlight,
    durationMs: elapsedMs,
    messages,
    points: messages * POINTS_PER_BATCH,
    messagesPerS: messages / (elapsedMs / 1000),
    pointsPerS: (messages * POINTS_PER_BATCH) / (elapsedMs / 1000),
    brokerCpuMsPer1000: (cpuMs / Math.max(1, messages)) * 1000,
  };
}
