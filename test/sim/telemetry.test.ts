/**
 * Simulated telemetry: plausible health metrics, and an error rate that follows the firmware
 * (ERROR_RATE_MARKER). Against a real Mosquitto; the server side is a stand-in responder for the
 * server's telemetry ingest, built in parallel (test/helpers/telemetry-responder.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TelemetryBatch } from '../../src/contracts/telemetry-messages.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { createSimDeviceTelemetry } from '../../src/sim/device-telemetry.ts';
import { errorRateFactor, simulatedImage, ERROR_RATE_FACTOR } from '../../src/sim/sim-firmware.ts';
import { simTelemetrySource } from '../../src/sim/sim-telemetry.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createUpdatingAgent } from '../../src/sim/updating-agent.ts';
import { deviceCert, startMosquitto, type MosquittoFixture } from '../helpers/mosquitto-fixture.ts';
import { startMqttResponder, type MqttResponder } from '../helpers/telemetry-responder.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

/** Errors per sample period over every stored window of a device. */
function errorsPerPeriod(batches: Iterable<TelemetryBatch>): { total: number; periods: number } {
  let total = 0;
  let periods = 0;
  for (const batch of batches) {
    for (const w of batch.windows) {
      const errors = w.values.errors;
      if (!errors) continue;
      total += errors.avg * errors.count;
      periods += errors.count;
    }
  }
  return { total, periods };
}

describe('simulated telemetry (pure parts)', () => {
  it('marks images whose application reports more errors', () => {
    assert.equal(errorRateFactor(simulatedImage('tracker-2', '2.5.0')), 1);
    assert.equal(
      errorRateFactor(simulatedImage('tracker-2', '2.5.0', { errorProne: true })),
      ERROR_RATE_FACTOR,
    );
    // The marker does not change an ordinary image: existing releases stay byte-identical.
    assert.ok(simulatedImage('m', '1').equals(simulatedImage('m', '1', { errorProne: false })));
  });

  it('draws errors at the rate times the factor, and health values in range', () => {
    const count = (errorFactor: number) => {
      const source = simTelemetrySource({ seed: 7, bootMs: 0, errorRatePerS: 1, errorFactor });
      let errors = 0;
      for (let t = 1; t <= 2_000; t++) errors += source.read(['errors'], t * 1000).errors ?? 0;
      return errors;
    };
    const base = count(1);
    const marked = count(ERROR_RATE_FACTOR);
    assert.ok(base > 1_500 && base < 2_500, `about 2000 errors in 2000 s at 1/s: ${base}`);
    assert.ok(marked > 5 * base, `${marked} vs ${base}`);
    const source = simTelemetrySource({ seed: 1, bootMs: 0 });
    const names = ['battery_pct', 'battery_v', 'signal_dbm', 'temperature_c', 'memory_used_pct', 'uptime_s'];
    const early = source.read(names, 60_000);
    const late = source.read(names, 10 * 3_600_000);
    assert.ok((late.battery_pct ?? 0) < (early.battery_pct ?? 0), 'the battery drains');
    assert.equal(late.uptime_s, 36_000);
    for (const value of Object.values(early)) assert.ok(Number.isFinite(value));
  });
});

describe('simulated telemetry against mosquitto', () => {
  let broker: MosquittoFixture;
  let responder: MqttResponder;
  let sim: SimulationHandle | undefined;

  before(async () => {
    broker = await startMosquitto();
    responder = await startMqttResponder(broker.plainPort);
  });
  after(async () => {
    await sim?.stop();
    await responder?.close();
    await broker?.close();
  });

  it('a simulated fleet sends health windows with short intervals', async () => {
    sim = await startSimulation(deps, {
      devices: 5,
      seed: 21,
      serverUrl: broker.tlsUrl,
      dataDir: broker.dataDir,
      telemetry: { sampleMs: 200, windowMs: 1_000, sendMs: 1_000 },
    });
    await sim.ramped;
    const ids = sim.devices.map((d) => d.deviceId);
    const windows = (id: string) =>
      [...(responder.ingest.stored.get(id)?.values() ?? [])].flatMap((b) => b.windows);
    await waitFor(() => ids.every((id) => windows(id).length >= 2), {
      what: 'two windows from every device',
    });
    for (const id of ids) {
      const seqs = responder.ingest.seqs(id);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
        `${id}: no gaps`,
      );
      const health = windows(id).find((w) => w.kind === 'health' && w.values.battery_pct);
      assert.ok(health, `${id}: a health window`);
      assert.equal(health.endMs - health.startMs, 1_000);
      assert.ok((health.values.battery_pct?.count ?? 0) >= 1);
      const boot = [...(responder.ingest.stored.get(id)?.values() ?? [])].flatMap((b) => b.events)[0];
      assert.equal(boot?.code, 'power_on');
    }
    await sim.stop();
    sim = undefined;
  });

  it('a device that boots an image with ERROR_RATE_MARKER reports about 10x the errors', async () => {
    const make = async (deviceId: string, errorProne: boolean) => {
      const cert = await deviceCert(broker.pki, deviceId);
      const tls = { caPem: broker.pki.chainPem, certPem: cert.certPem, keyPem: cert.keyPem };
      const dir = join(broker.dataDir, 'sim', 'devices', deviceId);
      return createUpdatingAgent(
        // The update link's first pull comes after ~60 s: long after this test.
        { ...deps, random: () => 0.99 },
        {
          deviceId,
          serverUrl: broker.tlsUrl,
          tls,
          identity: { serial: deviceId, hardware: { model: 'tracker-2', revision: 'B' } },
          firmwareVersion: '2.4.1',
        },
        {
          // No update server here: this device only boots its factory image.
          deviceHttpUrl: 'https://127.0.0.1:9',
          trustedRoot: Buffer.from('{}'),
          initialImage: (model, version) => simulatedImage(model, version, { errorProne }),
          telemetry: (boot) =>
            createSimDeviceTelemetry(
              deps,
              { sampleMs: 100, windowMs: 500, sendMs: 500, errorRatePerS: 20 },
              { deviceId, tls, dir, ...boot },
            ),
        },
        dir,
      );
    };
    const healthy = await make('sim-err-a', false);
    const noisy = await make('sim-err-b', true);
    healthy.start();
    noisy.start();
    try {
      const periods = (id: string) =>
        errorsPerPeriod(responder.ingest.stored.get(id)?.values() ?? []).periods;
      await waitFor(() => periods('sim-err-a') >= 50 && periods('sim-err-b') >= 50, {
        what: '50 sample periods from both devices',
        timeoutMs: 60_000,
      });
    } finally {
      await healthy.stop();
      await noisy.stop();
    }
    const a = errorsPerPeriod(responder.ingest.stored.get('sim-err-a')?.values() ?? []);
    const b = errorsPerPeriod(responder.ingest.stored.get('sim-err-b')?.values() ?? []);
    const rateA = a.total / a.periods;
    const rateB = b.total / b.periods;
    // Expected 2 and 20 errors per 100 ms period; the ratio is far from 1 whatever the noise.
    assert.ok(rateB > 5 * rateA, `errors per period: healthy ${rateA}, marked ${rateB}`);
  });
});
