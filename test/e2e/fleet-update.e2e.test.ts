// End to end: a simulated fleet (real agents, real update clients with A/B slot files, real TLS)
// updates through the real server: publish → deltas → deploy → push or pull → TUF-verified
// download → trial boot → health check → commit; and a bad image rolls back on every device.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 8;
const SEED = 4;
const MODEL = 'tracker-2';
const noop = () => undefined;
const print = (level: string) => (obj: Record<string, unknown>, msg: string) =>
  console.log(level, msg, JSON.stringify(obj));
/** Agent logs stay quiet unless FLOTILLA_TEST_LOG_LEVEL asks for them (debugging a failure). */
const silent: AgentLogger = process.env['FLOTILLA_TEST_LOG_LEVEL']
  ? { debug: noop, info: print('info'), warn: print('warn'), error: print('error') }
  : { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

type Json = Record<string, unknown>;
type Summary = { counts: Record<string, number>; devices: { items: Json[] } };

describe('a simulated fleet updates end to end', { timeout: 240_000 }, () => {
  let fx: ServerFixture;
  let sim: SimulationHandle | undefined;
  /** The tracker-2 devices of the simulated fleet (the ones every deployment here targets). */
  const trackers = simulatedFleet(DEVICES, SEED).filter((d) => d.hardware.model === MODEL);

  const api = async (method: string, path: string, body?: unknown) => fx.request(method, path, body);

  const publish = (version: string, image: Buffer) => fx.publishRelease(MODEL, version, image);

  async function startFleet(options: { push: boolean }): Promise<SimulationHandle> {
    const handle = await startSimulation(deps, {
      devices: DEVICES,
      seed: SEED,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      updates: {
        deviceHttpUrl: fx.server().deviceHttpUrl,
        push: options.push,
        // Pull mode polls every second; push mode effectively never (the offer must arrive by MQTT).
        pollIntervalS: options.push ? 3600 : 1,
        healthRetryDelayMs: 50,
        connectWithinMs: 10_000,
      },
    });
    await handle.ramped;
    await waitFor(() => handle.connectedCount() === handle.agents.length, { timeoutMs: 30_000 });
    return handle;
  }

  async function deployAndWait(version: string, finalState: string): Promise<Summary> {
    const deployed = await api('POST', '/api/v1/firmware/deployments', { model: MODEL, version });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const id = (deployed.body['deployment'] as Json)['id'] as string;
    const offered = (deployed.body['offered'] as string[]).length;
    let summary: Summary | undefined;
    await waitFor(
      async () => {
        summary = (await api('GET', `/api/v1/firmware/deployments/${id}`)).body as unknown as Summary;
        return (summary.counts[finalState] ?? 0) === offered;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(summary?.devices.items)}`);
    });
    return summary as Summary;
  }

  async function reportedVersions(): Promise<string[]> {
    const versions: string[] = [];
    for (const device of trackers) {
      const got = await api('GET', `/api/v1/devices/${device.deviceId}`);
      versions.push(String(got.body['firmwareVersion']));
    }
    return versions;
  }

  before(async () => {
    assert.ok(trackers.length >= 2, 'the seed must give at least two tracker-2 devices');
    fx = await createServerFixture();
    // Every version the simulated trackers run is a published release (their factory images).
    for (const version of new Set(trackers.map((d) => d.firmwareVersion))) {
      await publish(version, simulatedImage(MODEL, version));
    }
  });

  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  it('installs a release pushed over MQTT, by delta where the device runs a known base', async () => {
    sim = await startFleet({ push: true });
    // Wait until the registry knows every device's version, so the deltas are built for them.
    await waitFor(async () => (await reportedVersions()).every((v) => v !== 'undefined' && v !== 'null'));
    await publish('2.5.0', simulatedImage(MODEL, '2.5.0'));
    await waitFor(async () => {
      const deltas = (await api('GET', `/api/v1/firmware/releases/${MODEL}/2.5.0/deltas`)).body;
      const items = (deltas['items'] ?? []) as Json[];
      return items.length > 0 && items.every((d) => d['status'] !== 'pending');
    });

    const summary = await deployAndWait('2.5.0', 'success');
    assert.equal(summary.counts['success'], trackers.length);
    assert.ok(
      summary.devices.items.some((d) => d['delta'] === true),
      'at least one device installed from a delta',
    );
    await waitFor(async () => (await reportedVersions()).every((v) => v === '2.5.0'));
  });

  it('rolls back a release that fails its health check on every device that took it', async () => {
    await publish('2.6.0', simulatedImage(MODEL, '2.6.0', { unhealthy: true }));
    const summary = await deployAndWait('2.6.0', 'rolled-back');
    for (const device of summary.devices.items) {
      assert.equal(device['state'], 'rolled-back');
      assert.equal(device['reason'], 'health_check_failed');
    }
    // Back on the committed image, and reporting it.
    await waitFor(async () => (await reportedVersions()).every((v) => v === '2.5.0'));
    const history = await api('GET', `/api/v1/devices/${trackers[0]?.deviceId ?? ''}/updates`);
    const states = ((history.body['items'] ?? []) as Json[]).map((h) => h['state']);
    assert.ok(states.includes('verifying') || states.includes('rebooting'), JSON.stringify(states));
    await sim?.stop();
    sim = undefined;
  });

  it('installs a release the devices learn of by pulling (no MQTT notify)', async () => {
    sim = await startFleet({ push: false });
    await publish('2.7.0', simulatedImage(MODEL, '2.7.0'));
    const summary = await deployAndWait('2.7.0', 'success');
    assert.equal(summary.counts['success'], trackers.length);
    await waitFor(async () => (await reportedVersions()).every((v) => v === '2.7.0'));
  });
});
