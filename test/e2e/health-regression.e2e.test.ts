// End to end: the health-regression gate on a simulated fleet that sends real telemetry (agent
// aggregation, outbox and MQTT acks into the server's ingest and store). A release that boots and
// passes its health check but makes devices err ten times as often is halted at the canaries by
// the gate; a release that behaves like the old one goes through. Telemetry windows of one second
// and a gate needing seconds of device time stand in for the 5-minute windows and hours of a fleet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 40;
const SEED = 11;
const MODEL = 'tracker-2';
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

type Json = Record<string, unknown>;
interface Gate {
  gate: string;
  metric?: string;
  status: string;
  detail: string;
}
interface View {
  rollout: { state: { status: string; stageIndex: number; pauseReason: Json | null } };
  timeline: Json[];
  stages: Array<{ devices: number; current: boolean; gates: Gate[] }>;
  devices: Record<string, number>;
}

describe('the health-regression gate over a simulated fleet with telemetry', { timeout: 300_000 }, () => {
  let fx: ServerFixture;
  let sim: SimulationHandle | undefined;
  const trackers = simulatedFleet(DEVICES, SEED).filter((d) => d.hardware.model === MODEL);
  const spec = (version: string) => ({
    release: { model: MODEL, version },
    stages: [
      { percent: 25, holdS: 5 },
      { percent: 100, holdS: 0 },
    ],
    gates: {
      // Seconds of device time instead of hours: the fleet reports every second.
      healthRegression: { windowS: 600, minObservationS: 10, minDevices: 2, minDeviceHours: 0.005 },
    },
  });

  async function view(id: string): Promise<View> {
    return (await fx.request('GET', `/api/v1/rollouts/${id}`)).body as unknown as View;
  }

  async function waitForStatus(id: string, status: string): Promise<View> {
    let last: View | undefined;
    await waitFor(
      async () => {
        last = await view(id);
        return last.rollout.state.status === status;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`);
    });
    return last as View;
  }

  async function create(version: string): Promise<string> {
    const created = await fx.request('POST', '/api/v1/rollouts', spec(version));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (created.body['rollout'] as Json)['id'] as string;
  }

  before(async () => {
    assert.ok(trackers.length >= 8, 'the seed must give at least eight tracker-2 devices');
    fx = await createServerFixture({ rollouts: { tickIntervalS: 0.2 } });
    for (const version of new Set(trackers.map((d) => d.firmwareVersion)))
      await fx.publishRelease(MODEL, version, simulatedImage(MODEL, version));
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: SEED,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      updates: {
        deviceHttpUrl: fx.server().deviceHttpUrl,
        push: true,
        pollIntervalS: 3600,
        healthRetryDelayMs: 50,
        connectWithinMs: 10_000,
      },
      // About one error every two seconds per device on healthy firmware.
      telemetry: { sampleMs: 250, windowMs: 1000, sendMs: 1000, errorRatePerS: 0.5 },
    });
    await sim.ramped;
    await waitFor(() => sim?.connectedCount() === sim?.agents.length, { timeoutMs: 60_000 });
    // Let the old firmware build a baseline.
    await new Promise((resolve) => setTimeout(resolve, 5000));
  });

  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  it('halts a release that raises the error rate at the canaries', async () => {
    await fx.publishRelease(MODEL, '4.0.0', simulatedImage(MODEL, '4.0.0', { errorProne: true }));
    const id = await create('4.0.0');
    const paused = await waitForStatus(id, 'paused');
    // On failure, the timeline says how the canary stage was left.
    assert.equal(paused.rollout.state.stageIndex, 0, JSON.stringify({ ...paused, devices: undefined }));
    assert.equal(
      paused.rollout.state.pauseReason?.['gate'],
      'health-regression',
      JSON.stringify(paused.rollout),
    );
    const errors = paused.stages[0]?.gates.find(
      (g) => g.gate === 'health-regression' && g.metric === 'errors',
    );
    assert.equal(errors?.status, 'fail', JSON.stringify(paused.stages[0]?.gates));
    assert.match(errors.detail, /updated devices vs .* old-version devices/);
    // The release booted fine: the canaries succeeded, and nobody else was touched.
    const canaries = paused.stages[0]?.devices ?? 0;
    assert.equal(paused.devices['not-started'], trackers.length - canaries, JSON.stringify(paused.devices));
    const alerts = await fx.request('GET', `/api/v1/alerts?state=open&subjectKind=rollout&subjectId=${id}`);
    assert.equal((alerts.body['items'] as Json[]).length, 1);
    await fx.request('POST', `/api/v1/rollouts/${id}/cancel`, { note: 'error rate' });
  });

  it('lets a release that errs as often as the old one through every stage', async () => {
    await fx.publishRelease(MODEL, '4.1.0', simulatedImage(MODEL, '4.1.0'));
    const id = await create('4.1.0');
    const done = await waitForStatus(id, 'completed');
    // The canaries that took 4.0.0 are on 4.1.0 now too; every targeted device succeeded.
    assert.equal(done.devices['success'], trackers.length, JSON.stringify(done.devices));
  });

  it('answers fleet queries over the latest telemetry the devices sent', async () => {
    const where = encodeURIComponent(`model = "${MODEL}" and battery >= 0 and telemetry.errors >= 0`);
    const counted = await fx.request('GET', `/api/v1/devices/count?where=${where}`);
    assert.equal(counted.status, 200, JSON.stringify(counted.body));
    assert.equal(counted.body['count'], trackers.length);
  });
});
