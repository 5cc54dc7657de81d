/**
 * Bytes per device per day, with and without on-device aggregation, from real encoded payloads.
 * A day of one device on simulated time: the agent's collector with the default cadences (health
 * sampled every 60 s into 5-min windows of min/max/avg/count/last; two application readings
 * recorded every 30 s and one application counter, rolled up per minute; sent every 30 s) and the
 * simulator's health source. "Raw" sends every sample as it is taken: one message per health
 * sample tick (`{"seq","atMs","values":{…}}` with every health metric) and one per application
 * sample. Framing is added per message: MQTT 3.1.1 PUBLISH QoS 1 (fixed header, topic, packet id),
 * the PUBACK back, and a TLS 1.3 record (5-byte header, content type, 16-byte AEAD tag) around each.
 */
import type { TelemetryBatch } from '../src/contracts/telemetry-messages.ts';
import { createCollector } from '../src/agent/telemetry/collector.ts';
import type { BatchContent } from '../src/agent/telemetry/batch-pack.ts';
import { HEALTH_COUNTERS, TELEMETRY_DEFAULTS } from '../src/agent/telemetry/settings.ts';
import { simTelemetrySource } from '../src/sim/sim-telemetry.ts';
import { fakeTime } from '../test/helpers/fake-time.ts';

export interface BytesPerDay {
  messages: number;
  /** JSON payloads only. */
  payloadBytes: number;
  /** Device → server with MQTT and TLS framing. */
  upstreamBytes: number;
  /** Server → device: PUBACKs (and, aggregated, the telemetry/ack messages), framed. */
  downstreamBytes: number;
}

export interface BytesBench {
  deviceId: string;
  aggregated: BytesPerDay;
  raw: BytesPerDay;
}

const DAY = 86_400_000;
/** TLS 1.3 record: 5-byte header, 1-byte inner content type, 16-byte AEAD tag. */
const TLS_RECORD = 22;
const PUBACK = 4;

/** MQTT 3.1.1 PUBLISH QoS 1: fixed header (1 + remaining-length varint), topic (2 + n), packet id (2). */
export function publishBytes(topic: string, payloadBytes: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + payloadBytes;
  const varint = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + varint + remaining;
}

function tally(topic: string, payloads: string[], ackPayloads: string[], ackTopic: string): BytesPerDay {
  let payloadBytes = 0;
  let upstream = 0;
  for (const p of payloads) {
    const n = Buffer.byteLength(p);
    payloadBytes += n;
    upstream += publishBytes(topic, n) + TLS_RECORD;
  }
  let downstream = payloads.length * (PUBACK + TLS_RECORD);
  // The device answers each telemetry/ack PUBLISH (QoS 1) with a PUBACK.
  for (const a of ackPayloads) {
    downstream += publishBytes(ackTopic, Buffer.byteLength(a)) + TLS_RECORD;
    upstream += PUBACK + TLS_RECORD;
  }
  return { messages: payloads.length, payloadBytes, upstreamBytes: upstream, downstreamBytes: downstream };
}

export function measureBytesPerDay(deviceId = 'TR2-0A1B2C3D'): BytesBench {
  const startMs = Date.UTC(2026, 10, 26);
  const time = fakeTime(startMs);
  const source = simTelemetrySource({ seed: 7, bootMs: startMs });
  const contents: BatchContent[] = [];
  const collector = createCollector(
    { clock: time.clock, timers: time.timers, random: () => 0.5, sink: (c) => contents.push(...c) },
    TELEMETRY_DEFAULTS,
    [source],
  );
  // Raw: every health sample tick and every application sample is its own message.
  const raw: string[] = [];
  let rawSeq = 1;
  const healthNames = [
    'battery_pct',
    'battery_v',
    'signal_dbm',
    'temperature_c',
    'memory_used_pct',
    'storage_used_pct',
    'uptime_s',
  ];
  let flow = 3;
  collector.start();
  for (let t = startMs; t < startMs + DAY; t += 10_000) {
    time.advance(10_000);
    const now = time.clock.now();
    if (now % 30_000 === 0) {
      flow = Math.max(0, flow + Math.sin(now / 600_000) * 0.1);
      const level = 50 + 20 * Math.sin(now / 3_600_000);
      collector.record('pump.flow_lpm', Math.round(flow * 100) / 100);
      collector.record('tank.level_pct', Math.round(level * 100) / 100);
      raw.push(
        JSON.stringify({
          seq: rawSeq++,
          atMs: now,
          values: { 'pump.flow_lpm': flow, 'tank.level_pct': level },
        }),
      );
    }
    // One application counter (e.g. pump starts), sampled every 10 s like the agent does.
    collector.increment('pump.starts', now % 600_000 === 0 ? 1 : 0);
    raw.push(
      JSON.stringify({ seq: rawSeq++, atMs: now, values: { 'pump.starts': now % 600_000 === 0 ? 1 : 0 } }),
    );
    if (now % 60_000 === 0) {
      const values = {
        ...source.read(healthNames, now),
        ...Object.fromEntries([...HEALTH_COUNTERS].map((n) => [n, 0])),
      };
      raw.push(JSON.stringify({ seq: rawSeq++, atMs: now, values }));
    }
  }
  collector.stop();
  const batches = contents.map((c, i): TelemetryBatch => ({
    seq: 1_764_201_600_000 + i,
    sentAtMs: startMs,
    ...c,
  }));
  const aggregated = batches.map((b) => JSON.stringify(b));
  const acks = batches.map((b) =>
    JSON.stringify({ seq: b.seq, outcome: 'stored', accepted: 10, rejected: [] }),
  );
  const topic = `fl/d/${deviceId}/telemetry`;
  return {
    deviceId,
    aggregated: tally(topic, aggregated, acks, `fl/d/${deviceId}/telemetry/ack`),
    raw: tally(topic, raw, [], ''),
  };
}
