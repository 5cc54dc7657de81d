/**
 * Simulated devices run the real agent and job runner against a real Mosquitto (mTLS, ACL
 * `fl/d/%u/#`): a test client on the plain listener plays the server, sending `jobs/notify` and
 * reading `jobs/status`. Every operation, a reboot across a disconnect, duplicates, the self-test
 * fault knob and a log bundle uploaded over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { MqttClient } from 'mqtt';
import type { JobProgress, JobRun } from '../../src/contracts/job-messages.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { failsSelfTest } from '../../src/sim/sim-jobs.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import {
  startMosquitto,
  startObserver,
  type MosquittoFixture,
  type ObservedMessage,
} from '../helpers/mosquitto-fixture.ts';
import { waitFor } from '../helpers/wait.ts';
import { quietLogger } from './fake-device.ts';

const deps = {
  clock: { now: () => Date.now() },
  timers: systemTimers,
  random: Math.random,
  logger: quietLogger,
};
const FAIL_SHARE = 0.5;

describe('simulated devices run jobs', () => {
  let broker: MosquittoFixture;
  let observer: { client: MqttClient; messages: ObservedMessage[] };
  let sim: SimulationHandle;
  let http: Server;
  const uploads = new Map<string, Buffer>();
  let n = 0;

  before(async () => {
    broker = await startMosquitto();
    observer = await startObserver(broker.plainPort);
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        uploads.set(req.url ?? '', Buffer.concat(chunks));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    sim = await startSimulation(deps, {
      devices: 6,
      seed: 4,
      serverUrl: broker.tlsUrl,
      dataDir: broker.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      jobs: { rebootDelayMs: 200, selfTestFailShare: FAIL_SHARE, deviceHttpUrl: `http://127.0.0.1:${port}` },
    });
    await sim.ramped;
    await waitFor(() => capabilities().size === 6, { what: 'capabilities from every device' });
  });
  after(async () => {
    await sim?.stop();
    await observer?.client.endAsync(true);
    await broker?.close();
    http?.close();
  });

  function capabilities(): Set<string> {
    return new Set(
      observer.messages
        .filter(
          (m) => m.topic.endsWith('/jobs/status') && (m.payload as { kind: string }).kind === 'capabilities',
        )
        .map((m) => m.topic),
    );
  }
  const progress = (executionId: string): JobProgress[] =>
    observer.messages
      .filter((m) => m.topic.endsWith('/jobs/status'))
      .map((m) => m.payload as JobProgress)
      .filter((p) => p.kind === 'progress' && p.executionId === executionId);
  const final = async (executionId: string): Promise<JobProgress> => {
    await waitFor(() => progress(executionId).some((p) => p.state !== 'in-progress'), { what: executionId });
    return progress(executionId).find((p) => p.state !== 'in-progress') as JobProgress;
  };
  async function send(deviceId: string, run: Partial<JobRun> & Pick<JobRun, 'operation'>): Promise<string> {
    const executionId = `sim-ex-${++n}`;
    const message: JobRun = {
      kind: 'run',
      executionId,
      jobId: 'j',
      attempt: 1,
      params: {},
      deadlineMs: Date.now() + 60_000,
      ...run,
    };
    await observer.client.publishAsync(`fl/d/${deviceId}/jobs/notify`, JSON.stringify(message), { qos: 1 });
    return executionId;
  }
  const device = (i: number) => sim.devices[i]?.deviceId ?? '';

  it('advertises every operation and the simulated commands', () => {
    const first = observer.messages.find((m) => m.topic === `fl/d/${device(0)}/jobs/status`);
    assert.deepEqual(first?.payload, {
      kind: 'capabilities',
      operations: ['reboot', 'factory-reset', 'recovery', 'logs', 'self-test', 'sensors', 'command'],
      commands: [
        { name: 'echo', description: 'answers with the params it was given' },
        { name: 'blink-led', description: 'blinks the status LED params.times times (default 3)' },
      ],
    });
  });

  it('reboots: goes offline, comes back, sends capabilities, then reports succeeded', async () => {
    const id = device(1);
    const before = observer.messages.length;
    const ex = await send(id, { operation: 'reboot' });
    const outcome = await final(ex);
    assert.equal(outcome.state, 'succeeded');
    assert.equal(sim.jobs.get(id)?.state().boots, 2);
    const later = observer.messages.slice(before).filter((m) => m.topic === `fl/d/${id}/jobs/status`);
    const kinds = later.map((m) => (m.payload as JobProgress).state ?? 'capabilities');
    assert.deepEqual(kinds, ['in-progress', 'capabilities', 'succeeded']);
    // Redelivered after the reboot: answered from the book, not rebooted again.
    await observer.client.publishAsync(
      `fl/d/${id}/jobs/notify`,
      JSON.stringify({
        kind: 'run',
        executionId: ex,
        jobId: 'j',
        attempt: 1,
        operation: 'reboot',
        params: {},
        deadlineMs: 0,
      }),
      { qos: 1 },
    );
    await waitFor(() => progress(ex).filter((p) => p.state === 'succeeded').length === 2);
  });

  it('factory reset clears the simulated state; recovery sets its flag', async () => {
    const id = device(2);
    const recovery = await final(await send(id, { operation: 'recovery' }));
    assert.equal(recovery.state, 'succeeded');
    assert.equal(sim.jobs.get(id)?.state().recovery, true);
    const reset = await final(await send(id, { operation: 'factory-reset' }));
    assert.equal(reset.state, 'succeeded');
    assert.equal(reset.result?.['identityKept'], true);
    assert.deepEqual(sim.jobs.get(id)?.state().config, {});
    assert.equal(sim.jobs.get(id)?.state().recovery, false);
  });

  it('reads sensors and runs the simulated commands; rejects an unknown one', async () => {
    const id = device(3);
    const sensors = await final(
      await send(id, { operation: 'sensors', params: { names: ['battery_pct', 'temperature_c'] } }),
    );
    assert.deepEqual(Object.keys(sensors.result?.['values'] as object).sort(), [
      'battery_pct',
      'temperature_c',
    ]);
    const echo = await final(await send(id, { operation: 'command', command: 'echo', params: { x: 1 } }));
    assert.deepEqual(echo.result, { echo: { x: 1 } });
    const unknown = await final(await send(id, { operation: 'command', command: 'self-destruct' }));
    assert.equal(unknown.state, 'rejected');
    assert.equal(unknown.code, 'unsupported_command');
  });

  it('rejects an operation this agent does not know, so the server need not wait for a timeout', async () => {
    const id = device(4);
    await observer.client.publishAsync(
      `fl/d/${id}/jobs/notify`,
      JSON.stringify({
        kind: 'run',
        executionId: 'sim-new-op',
        jobId: 'j',
        attempt: 1,
        operation: 'teleport',
        params: {},
        deadlineMs: 0,
      }),
      { qos: 1 },
    );
    const outcome = await final('sim-new-op');
    assert.equal(outcome.state, 'rejected');
    assert.equal(outcome.code, 'unsupported_command');
  });

  it('fails the self-test on the share of devices the fault knob picks', async () => {
    const outcomes = await Promise.all(
      sim.devices.map(
        async (d) => [d.deviceId, await final(await send(d.deviceId, { operation: 'self-test' }))] as const,
      ),
    );
    // The seed gives both kinds, so the knob is seen to pick some and spare others.
    assert.ok(outcomes.some(([id]) => failsSelfTest(id, FAIL_SHARE)));
    assert.ok(outcomes.some(([id]) => !failsSelfTest(id, FAIL_SHARE)));
    for (const [id, outcome] of outcomes) {
      const failing = failsSelfTest(id, FAIL_SHARE);
      assert.equal(outcome.state, failing ? 'failed' : 'succeeded', id);
      if (failing) assert.equal(outcome.code, 'self_test_failed');
    }
  });

  it('uploads a gzip log bundle of its recent lines', async () => {
    const id = device(1); // rebooted above: its log has the boot line
    const ex = await send(id, { operation: 'logs' });
    const outcome = await final(ex);
    assert.equal(outcome.state, 'succeeded');
    const bundle = uploads.get(`/device/v1/jobs/${ex}/logs`);
    assert.ok(bundle);
    assert.match(gunzipSync(bundle).toString(), /"bootReason":"remote_reboot"/);
  });
});
