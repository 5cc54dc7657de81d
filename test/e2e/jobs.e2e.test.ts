/**
 * Remote jobs end to end: the real server (embedded broker, SQLite) and simulated devices that run
 * the real agent and job runner. Every job type through the management API — reboot, factory reset
 * (with the confirmation flag), recovery, logs (the bundle downloaded and gunzipped), self-test,
 * sensors, a custom command, and a command the devices do not have — plus devices offline when a
 * job starts that get it when they come back, an abort threshold stopping a job on failing
 * self-tests, log uploads only from the execution's own device, and the audit entries of all of it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemTimers } from '../../src/infra/timers.ts';
import { fleetPkiPaths } from '../../src/pki/fleet-paths.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { failsSelfTest } from '../../src/sim/sim-jobs.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };
const DEVICES = 12;
const FAIL_SHARE = 0.5;

interface Execution {
  id: string;
  deviceId: string;
  state: string;
  attempt: number;
  code: string | null;
  message: string | null;
  result: Record<string, unknown> | null;
}
interface JobView {
  job: { id: string; state: string; reason: string | null };
  counts: Record<string, number>;
}

describe('remote jobs end to end', () => {
  let fx: ServerFixture;
  let sim: SimulationHandle;
  const finalJobStates = ['completed', 'aborted', 'cancelled'];

  before(async () => {
    fx = await createServerFixture();
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: 21,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      jobs: { rebootDelayMs: 300, selfTestFailShare: FAIL_SHARE, deviceHttpUrl: fx.server().deviceHttpUrl },
    });
    await sim.ramped;
    await waitFor(() => sim.connectedCount() === DEVICES, { what: 'every device connected' });
    // Every device has told the server what it can do.
    await waitFor(
      async () => {
        const dry = await fx.request('POST', '/api/v1/jobs', {
          operation: 'sensors',
          target: { deviceIds: ids() },
          dryRun: true,
        });
        return (dry.body['result'] as { capabilitiesUnknown: number } | undefined)?.capabilitiesUnknown === 0;
      },
      { what: 'capabilities from every device' },
    );
  });
  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  const ids = () => sim.devices.map((d) => d.deviceId);
  const passing = () => ids().filter((id) => !failsSelfTest(id, FAIL_SHARE));
  const failing = () => ids().filter((id) => failsSelfTest(id, FAIL_SHARE));

  /** Every job created, with its operation: the audit test checks each has its entry. */
  const createdJobs: { id: string; operation: string }[] = [];
  let abortedJob = '';

  async function create(body: Record<string, unknown>): Promise<string> {
    const created = await fx.request('POST', '/api/v1/jobs', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body['job'] as { id: string }).id;
    createdJobs.push({ id, operation: String(body['operation']) });
    return id;
  }
  async function view(jobId: string): Promise<JobView> {
    return (await fx.api<JobView>(`/api/v1/jobs/${jobId}`)).body;
  }
  async function finished(jobId: string): Promise<JobView> {
    await waitFor(async () => finalJobStates.includes((await view(jobId)).job.state), {
      what: `job ${jobId}`,
    });
    return view(jobId);
  }
  async function executions(jobId: string): Promise<Execution[]> {
    return (await fx.api<{ items: Execution[] }>(`/api/v1/jobs/${jobId}/executions?limit=1000`)).body.items;
  }
  async function single(body: Record<string, unknown>): Promise<Execution> {
    const jobId = await create(body);
    await finished(jobId);
    const [execution] = await executions(jobId);
    assert.ok(execution);
    return execution;
  }

  it('reboots a device: it goes offline, comes back, and only then succeeds', async () => {
    const id = ids()[0] ?? '';
    const execution = await single({ operation: 'reboot', target: { deviceIds: [id] } });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    assert.equal(typeof execution.result?.['backAtMs'], 'number');
    assert.equal(sim.jobs.get(id)?.state().boots, 2);
  });

  it('factory reset needs the confirmation flag, then wipes data and keeps the identity', async () => {
    const id = ids()[1] ?? '';
    const refused = await fx.request('POST', '/api/v1/jobs', {
      operation: 'factory-reset',
      target: { deviceIds: [id] },
    });
    assert.equal(refused.status, 428, JSON.stringify(refused.body));
    assert.equal(sim.jobs.get(id)?.state().factoryResets, 0);
    const execution = await single({
      operation: 'factory-reset',
      target: { deviceIds: [id] },
      confirm: true,
    });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    assert.equal(execution.result?.['identityKept'], true);
    assert.equal(sim.jobs.get(id)?.state().factoryResets, 1);
    assert.deepEqual(sim.jobs.get(id)?.state().config, {});
  });

  it('enters recovery mode', async () => {
    const id = ids()[2] ?? '';
    const execution = await single({ operation: 'recovery', target: { deviceIds: [id] } });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    assert.equal(execution.result?.['recovery'], true);
    assert.equal(sim.jobs.get(id)?.state().recovery, true);
  });

  it('collects logs: the bundle is downloaded through the API and gunzipped', async () => {
    const id = ids()[0] ?? ''; // rebooted above: its log has the boot line
    const jobId = await create({ operation: 'logs', target: { deviceIds: [id] } });
    await finished(jobId);
    const [execution] = await executions(jobId);
    assert.equal(execution?.state, 'succeeded', JSON.stringify(execution));
    const res = await fetch(`http://127.0.0.1:${fx.httpPort}/api/v1/jobs/${jobId}/executions/${id}/logs`);
    assert.equal(res.status, 200);
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
    assert.match(text, /"bootReason":"remote_reboot"/);
  });

  it('runs the self-test and reports each check', async () => {
    const id = passing()[0] ?? '';
    const execution = await single({ operation: 'self-test', target: { deviceIds: [id] } });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    const checks = (execution.result?.['checks'] as { name: string; passed: boolean }[]).map((c) => c.name);
    assert.deepEqual(checks, ['clock-sane', 'certificate-validity', 'broker-round-trip', 'sensor-bus']);
  });

  it('reads sensor values', async () => {
    const id = ids()[3] ?? '';
    const execution = await single({
      operation: 'sensors',
      params: { names: ['battery_pct', 'signal_dbm'] },
      target: { deviceIds: [id] },
    });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    assert.deepEqual(Object.keys(execution.result?.['values'] as object).sort(), [
      'battery_pct',
      'signal_dbm',
    ]);
  });

  it('runs a custom command the devices registered, with its params', async () => {
    const id = ids()[4] ?? '';
    const execution = await single({
      operation: 'command',
      command: 'echo',
      params: { text: 'hello' },
      target: { deviceIds: [id] },
    });
    assert.equal(execution.state, 'succeeded', JSON.stringify(execution));
    assert.deepEqual(execution.result, { echo: { text: 'hello' } });
  });

  it('fails a command the device does not support, with the reason', async () => {
    const id = ids()[5] ?? '';
    const execution = await single({
      operation: 'command',
      command: 'launch-rockets',
      target: { deviceIds: [id] },
    });
    assert.equal(execution.state, 'failed', JSON.stringify(execution));
    assert.equal(execution.code, 'unsupported_command');
    assert.match(execution.message ?? '', /launch-rockets/);
  });

  it('devices offline when a job starts get it when they come back', async () => {
    const offline = ids().slice(6, 8);
    await sim.disconnect(offline);
    const jobId = await create({ operation: 'sensors', target: { deviceIds: ids().slice(5, 9) } });
    // The online ones finish; the offline ones wait.
    await waitFor(async () => ((await view(jobId)).counts['succeeded'] ?? 0) === 2, {
      what: 'online devices done',
    });
    assert.equal((await view(jobId)).job.state, 'in-progress');
    sim.reconnect(offline);
    const done = await finished(jobId);
    assert.equal(done.job.state, 'completed');
    assert.equal(done.counts['succeeded'], 4);
  });

  it('an abort threshold stops a job when too many self-tests fail', async () => {
    // 5 devices that fail the self-test and 3 that pass; 4 sent per minute, so whichever 4 go first,
    // at least one fails (> 20 %) and the abort comes before the next minute's sends.
    assert.ok(failing().length >= 4 && passing().length >= 3, 'the seed gives both kinds');
    const target = [...failing().slice(0, 5), ...passing().slice(0, 3)];
    const jobId = await create({
      operation: 'self-test',
      target: { deviceIds: target },
      abortAfterFailedPercent: 20,
      minFinished: 3,
      rateLimitPerMinute: 4,
    });
    const done = await finished(jobId);
    abortedJob = jobId;
    assert.equal(done.job.state, 'aborted', JSON.stringify(done));
    assert.ok(done.job.reason);
    const all = await executions(jobId);
    const failed = all.filter((e) => e.state === 'failed');
    assert.ok(failed.length >= 1);
    for (const e of failed) assert.equal(e.code, 'self_test_failed');
    // The devices not reached yet were cancelled by the abort.
    assert.ok(all.filter((e) => e.state === 'cancelled').length >= 4, JSON.stringify(done.counts));
  });

  it('takes a log upload only from the device the execution belongs to', async () => {
    const [a, b] = ids();
    const identity = async (id: string) => ({
      cert: await readFile(join(fx.dataDir, 'sim', `${id}.pem`), 'utf8'),
      key: await readFile(join(fx.dataDir, 'sim', `${id}.key`), 'utf8'),
      ca: await readFile(fleetPkiPaths(fx.dataDir).chain, 'utf8'),
    });
    const tls = await identity(a ?? '');
    // A log upload for an execution of another device is refused.
    const jobId = await create({ operation: 'sensors', target: { deviceIds: [b ?? ''] } });
    await finished(jobId);
    const [execution] = await executions(jobId);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${fx.server().deviceHttpUrl}/device/v1/jobs/${execution?.id ?? ''}/logs`,
        { method: 'PUT', ...tls, headers: { 'content-type': 'application/gzip' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(gunzipSafe());
    });
    assert.ok(status === 404 || status === 403, `status ${status}`);
  });

  it('records every job in the audit log', async () => {
    const audit = await fx.api<{
      items: { action: string; target: string; actor: string; details: Record<string, unknown> }[];
    }>('/api/v1/audit?actionPrefix=job&limit=1000');
    assert.equal(audit.status, 200);
    const entries = audit.body.items;
    // One job.created per job, with the operation: the refused factory reset (428) left none.
    assert.equal(createdJobs.length, 11);
    for (const job of createdJobs) {
      const entry = entries.find((e) => e.action === 'job.created' && e.target === job.id);
      assert.ok(entry, `no job.created entry for ${job.operation} job ${job.id}`);
      assert.equal(entry.details['operation'], job.operation);
      assert.ok(entry.actor.length > 0);
    }
    assert.equal(entries.filter((e) => e.action === 'job.created').length, createdJobs.length);
    assert.ok(entries.some((e) => e.action === 'job.aborted' && e.target === abortedJob));
  });
});

/** A tiny valid gzip body. */
function gunzipSafe(): Buffer {
  return Buffer.from('1f8b0800000000000003030000000000000000', 'hex');
}
