/**
 * Telemetry over MQTT against a real Mosquitto (TLS, client certificates, per-device ACL). The
 * server side is a stand-in responder (test/helpers/telemetry-responder.ts) for the server's
 * ingest, which is built in parallel: it stores each (device, seq) once and acks on
 * `fl/d/{id}/telemetry/ack`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/agent.ts';
import type { Agent, AgentLogger } from '../../src/agent/types.ts';
import type { BatchContent } from '../../src/agent/telemetry/batch-pack.ts';
import { createCollector, type Collector } from '../../src/agent/telemetry/collector.ts';
import { mqttTransport } from '../../src/agent/telemetry/mqtt-transport.ts';
import { openOutbox, type Outbox } from '../../src/agent/telemetry/outbox.ts';
import { createSender, type Sender } from '../../src/agent/telemetry/sender.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { deviceCert, startMosquitto, type MosquittoFixture } from '../helpers/mosquitto-fixture.ts';
import { startMqttResponder, type MqttResponder } from '../helpers/telemetry-responder.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: systemClock, timers: systemTimers, random: Math.random, logger };

interface Device {
  agent: Agent;
  collector: Collector;
  outbox: Outbox;
  sender: Sender;
  /** Resolves when every batch handed to the outbox so far is on disk. */
  appended: () => Promise<unknown>;
}

describe('telemetry over MQTT (real broker, stand-in ingest)', () => {
  let broker: MosquittoFixture;
  let responder: MqttResponder;
  let dir: string;
  const running: Device[] = [];

  before(async () => {
    broker = await startMosquitto();
    responder = await startMqttResponder(broker.plainPort);
    dir = await mkdtemp(join(tmpdir(), 'flotilla-tm-'));
  });
  after(async () => {
    for (const d of running) {
      d.sender.stop();
      await d.agent.stop();
    }
    await responder?.close();
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function device(deviceId: string): Promise<Device> {
    const cert = await deviceCert(broker.pki, deviceId);
    const outbox = await openOutbox({ dir: join(dir, deviceId) }, logger);
    const live: { agent?: Agent } = {};
    const sender = createSender(
      deps,
      outbox,
      mqttTransport(() => live.agent),
      {
        ackTimeoutMs: 1_000,
        maxInFlight: 4,
        retry: { initialMs: 100, maxMs: 500 },
      },
    );
    const agent = createAgent(deps, {
      deviceId,
      serverUrl: broker.tlsUrl,
      tls: { caPem: broker.pki.chainPem, certPem: cert.certPem, keyPem: cert.keyPem },
      identity: { serial: `SN-${deviceId}`, hardware: { model: 'm', revision: 'A' } },
      firmwareVersion: '1.0.0',
      backoff: { initialMs: 50, maxMs: 300 },
      onTelemetryAck: (ack) => sender.ack(ack),
      onConnected: () => sender.onConnected(),
      onDisconnected: ({ wasConnected }) => {
        if (wasConnected) {
          collector.increment('disconnects');
          sender.onDisconnected();
        }
      },
    });
    live.agent = agent;
    let appends: Promise<unknown> = Promise.resolve();
    const sink = (contents: BatchContent[]) => {
      for (const c of contents) appends = appends.then(() => outbox.append(c)).then(() => sender.pump());
    };
    const collector = createCollector(
      { ...deps, sink },
      {
        health: { sampleMs: 100, windowMs: 300 },
        app: { sampleMs: 100, windowMs: 300 },
        sendMs: 300,
        metrics: {},
      },
      [
        {
          read: (names): Record<string, number> => (names.includes('battery_pct') ? { battery_pct: 80 } : {}),
        },
      ],
    );
    const d = { agent, collector, outbox, sender, appended: () => appends };
    running.push(d);
    agent.start();
    sender.start();
    collector.start();
    return d;
  }

  it('loses nothing when the broker goes away and comes back; the outbox ends empty', async () => {
    const d = await device('tm-1');
    const stored = () => responder.ingest.seqs('tm-1');
    await waitFor(() => stored().length >= 3, { what: 'first batches stored' });

    await broker.kill();
    await waitFor(() => !d.agent.isConnected(), { what: 'the agent to notice' });
    const queuedAtKill = d.outbox.seqs().length;
    d.collector.record('app.level', 1);
    d.collector.event({ type: 'error', atMs: Date.now(), severity: 'error', code: 'E_OFFLINE' });
    await waitFor(() => d.outbox.seqs().length >= queuedAtKill + 3, { what: 'batches queued offline' });

    await broker.start();
    await waitFor(() => d.agent.isConnected(), { what: 'reconnect' });
    // Stop producing, then everything queued must arrive and be acknowledged.
    d.collector.stop();
    await d.appended();
    const lastSeq = d.outbox.stats().nextSeq - 1;
    await waitFor(() => d.outbox.seqs().length === 0, { what: 'the outbox to empty', timeoutMs: 30_000 });

    // Every seq the device used was stored (at least once received, exactly once stored).
    const expected = Array.from({ length: lastSeq }, (_, i) => i + 1);
    assert.deepEqual(stored(), expected);
    const receivedSeqs = new Set(
      responder.ingest.received.filter((r) => r.deviceId === 'tm-1').map((r) => r.seq),
    );
    assert.equal(receivedSeqs.size, lastSeq);
    const batches = [...(responder.ingest.stored.get('tm-1')?.values() ?? [])];
    assert.ok(
      batches.some((b) => b.events.some((e) => e.code === 'E_OFFLINE')),
      'the offline event arrived',
    );
    const disconnects = batches
      .flatMap((b) => b.windows)
      .reduce(
        (n, w) => n + (w.values.disconnects ? w.values.disconnects.avg * w.values.disconnects.count : 0),
        0,
      );
    assert.ok(disconnects >= 1, 'the lost connection was counted');
  });

  it('resends a batch whose ack was lost; the stand-in sees it twice and stores it once', async () => {
    const d = await device('tm-2');
    await waitFor(() => responder.ingest.seqs('tm-2').length >= 1, { what: 'a first batch' });
    responder.setAcking(false);
    const before = responder.ingest.received.length;
    await waitFor(() => responder.ingest.received.length > before, { what: 'a batch without ack' });
    responder.setAcking(true);
    d.collector.stop();
    await d.appended();
    await waitFor(() => d.outbox.seqs().length === 0, { what: 'the outbox to empty', timeoutMs: 30_000 });
    const received = responder.ingest.received.filter((r) => r.deviceId === 'tm-2').map((r) => r.seq);
    assert.ok(received.length > new Set(received).size, 'some batch was received again');
    const lastSeq = d.outbox.stats().nextSeq - 1;
    assert.deepEqual(
      responder.ingest.seqs('tm-2'),
      Array.from({ length: lastSeq }, (_, i) => i + 1),
    );
  });
});
