/**
 * Remote jobs on devices that also take firmware updates (the demo fleet's combination): a remote
 * reboot power-cycles the updating agent, which is down between the two boots. Every device must
 * come back, report the reboot as succeeded, and run the next job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemTimers } from '../../src/infra/timers.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };
const DEVICES = 4;

interface JobView {
  job: { id: string; state: string };
  counts: Record<string, number>;
}

describe('remote jobs on a fleet that takes updates', () => {
  let fx: ServerFixture;
  let sim: SimulationHandle;
  const ids = () => sim.devices.map((d) => d.deviceId);

  before(async () => {
    fx = await createServerFixture();
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: 23,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      updates: { deviceHttpUrl: fx.server().deviceHttpUrl, pollIntervalS: 3600, connectWithinMs: 10_000 },
      jobs: { rebootDelayMs: 200, deviceHttpUrl: fx.server().deviceHttpUrl },
    });
    await sim.ramped;
    await waitFor(() => sim.connectedCount() === DEVICES, { what: 'every device connected' });
  });
  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  async function run(body: Record<string, unknown>): Promise<JobView> {
    const created = await fx.request('POST', '/api/v1/jobs', { target: { deviceIds: ids() }, ...body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body['job'] as { id: string }).id;
    let view: JobView | undefined;
    await waitFor(
      async () => {
        view = (await fx.api<JobView>(`/api/v1/jobs/${id}`)).body;
        return view.job.state !== 'in-progress' && view.job.state !== 'scheduled';
      },
      { what: `job ${id}` },
    );
    return view as JobView;
  }

  it('reboots every device, which comes back, reports success and takes the next job', async () => {
    const reboot = await run({ operation: 'reboot' });
    assert.equal(reboot.job.state, 'completed');
    assert.deepEqual(reboot.counts, { succeeded: DEVICES });
    await waitFor(() => sim.connectedCount() === DEVICES, { what: 'every device back' });
    const sensors = await run({ operation: 'sensors' });
    assert.deepEqual(sensors.counts, { succeeded: DEVICES });
  });
});
