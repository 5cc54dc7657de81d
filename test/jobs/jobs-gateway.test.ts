/**
 * Jobs over the real server: embedded broker over TLS, a raw mqtt.js client acting as the device
 * with its own certificate (capabilities → run → progress → result), the device HTTPS log upload,
 * the management API and its downloads, and isolation between devices.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import mqtt, { type MqttClient } from 'mqtt';
import type { JobNotify, JobRun, JobStatus } from '../../src/contracts/job-messages.ts';
import { issueDeviceCert, type KeyPairPem } from '../../src/pki/x509.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

interface FakeDevice {
  id: string;
  cert: KeyPairPem;
  client: MqttClient;
  notifies: JobNotify[];
  send(status: JobStatus): Promise<void>;
}

describe('jobs over the gateway', () => {
  let fx: ServerFixture;
  const devices: FakeDevice[] = [];

  before(async () => {
    fx = await createServerFixture();
  });
  after(async () => {
    for (const device of devices) await device.client.endAsync();
    await fx.close();
  });

  async function connectDevice(id: string): Promise<FakeDevice> {
    const cert = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: id, serial: `SN-${id}`, validityDays: 1 },
      Date.now(),
    );
    const client = await mqtt.connectAsync(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: id,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.server().pki.chainPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    const notifies: JobNotify[] = [];
    client.on('message', (topic, payload) => {
      if (topic === `fl/d/${id}/jobs/notify`)
        notifies.push(JSON.parse(payload.toString('utf8')) as JobNotify);
    });
    const granted = await client.subscribeAsync(`fl/d/${id}/jobs/notify`, { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    const device: FakeDevice = {
      id,
      cert,
      client,
      notifies,
      send: async (status) => {
        await client.publishAsync(`fl/d/${id}/jobs/status`, JSON.stringify(status), { qos: 1 });
      },
    };
    devices.push(device);
    return device;
  }

  const capabilities = (commands: string[]): JobStatus => ({
    kind: 'capabilities',
    operations: ['reboot', 'logs', 'self-test', 'command'],
    commands: commands.map((name) => ({ name })),
  });

  async function createJob(body: Record<string, unknown>): Promise<string> {
    const created = await fx.request('POST', '/api/v1/jobs', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (created.body.job as { id: string }).id;
  }

  async function nextRun(device: FakeDevice, jobId: string): Promise<JobRun> {
    let found: JobRun | undefined;
    await waitFor(
      () => {
        found = device.notifies.find((n): n is JobRun => n.kind === 'run' && n.jobId === jobId);
        return found !== undefined;
      },
      { what: `a run of ${jobId} on ${device.id}` },
    );
    return found as JobRun;
  }

  async function jobView(jobId: string) {
    return (await fx.api<{ job: { state: string }; counts: Record<string, number> }>(`/api/v1/jobs/${jobId}`))
      .body;
  }

  function putLogs(
    cert: KeyPairPem,
    executionId: string,
    body: Buffer,
  ): Promise<{ status: number; body: string }> {
    const url = `${fx.server().deviceHttpUrl}/device/v1/jobs/${executionId}/logs`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'PUT',
          ca: fx.server().pki.chainPem,
          cert: cert.certPem,
          key: cert.keyPem,
          headers: { 'content-type': 'application/gzip', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('runs a registered command: capabilities → run → progress → result', async () => {
    const a = await connectDevice('job-dev-a');
    await a.send(capabilities(['restart-app']));
    const jobId = await createJob({
      operation: 'command',
      command: 'restart-app',
      params: { graceS: 5 },
      target: { deviceIds: ['job-dev-a'] },
    });
    const run = await nextRun(a, jobId);
    assert.equal(run.attempt, 1);
    assert.equal(run.command, 'restart-app');
    assert.deepEqual(run.params, { graceS: 5 });
    await a.send({ kind: 'progress', executionId: run.executionId, attempt: 1, state: 'in-progress' });
    await a.send({
      kind: 'progress',
      executionId: run.executionId,
      attempt: 1,
      state: 'succeeded',
      result: { exitCode: 0, stdout: 'restarted' },
    });
    await waitFor(async () => (await jobView(jobId)).job.state === 'completed', { what: 'job completed' });
    assert.deepEqual((await jobView(jobId)).counts, { succeeded: 1 });
    const executions = await fx.api<{ items: Array<{ result: unknown; deviceId: string }> }>(
      `/api/v1/jobs/${jobId}/executions?state=succeeded`,
    );
    assert.deepEqual(executions.body.items[0]?.result, { exitCode: 0, stdout: 'restarted' });
    const perDevice = await fx.api<{ items: Array<{ jobId: string }> }>('/api/v1/devices/job-dev-a/jobs');
    assert.equal(perDevice.body.items[0]?.jobId, jobId);
    const metrics = await (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    assert.match(metrics, /flotilla_job_executions_total\{operation="command",state="succeeded"\} 1/);
    const audit = await fx.api<{ items: Array<{ action: string; target: string; actor: string }> }>(
      '/api/v1/audit?limit=50',
    );
    assert.ok(
      audit.body.items.some((e) => e.action === 'job.created' && e.target === jobId && e.actor === 'api'),
    );
  });

  it('fails an unregistered command at once with unsupported_command', async () => {
    const jobId = await createJob({
      operation: 'command',
      command: 'format-disk',
      target: { deviceIds: ['job-dev-a'] },
    });
    await waitFor(async () => (await jobView(jobId)).job.state === 'completed', { what: 'job completed' });
    const executions = await fx.api<{ items: Array<{ state: string; code: string; message: string }> }>(
      `/api/v1/jobs/${jobId}/executions`,
    );
    assert.equal(executions.body.items[0]?.state, 'failed');
    assert.equal(executions.body.items[0]?.code, 'unsupported_command');
    assert.match(executions.body.items[0]?.message ?? '', /format-disk/);
  });

  it('takes a log bundle only from the device that owns the execution, and serves it', async () => {
    const a = devices.find((d) => d.id === 'job-dev-a');
    assert.ok(a);
    const b = await connectDevice('job-dev-b');
    // SUBACK 0x80: the subscription is refused, the connection kept.
    await assert.rejects(
      b.client.subscribeAsync('fl/d/job-dev-a/jobs/notify', { qos: 1 }),
      "B may not read A's jobs",
    );
    await assert.rejects(
      b.client.subscribeAsync('fl/d/+/jobs/notify', { qos: 1 }),
      'no wildcard subscriptions either',
    );
    const jobId = await createJob({ operation: 'logs', target: { deviceIds: ['job-dev-a'] } });
    const run = await nextRun(a, jobId);
    const bundle = gzipSync(Buffer.from('line 1\nline 2\n'));
    const foreign = await putLogs(b.cert, run.executionId, bundle);
    assert.equal(foreign.status, 404, foreign.body);
    const notGzip = await putLogs(a.cert, run.executionId, Buffer.from('plain text'));
    assert.equal(notGzip.status, 400, notGzip.body);
    const own = await putLogs(a.cert, run.executionId, bundle);
    assert.equal(own.status, 201, own.body);
    assert.deepEqual(JSON.parse(own.body), { bytes: bundle.length });
    await a.send({ kind: 'progress', executionId: run.executionId, attempt: 1, state: 'succeeded' });
    const download = await fetch(
      `http://127.0.0.1:${fx.httpPort}/api/v1/jobs/${jobId}/executions/job-dev-a/logs`,
    );
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/gzip');
    assert.equal(gunzipSync(Buffer.from(await download.arrayBuffer())).toString('utf8'), 'line 1\nline 2\n');
    const missing = await fetch(
      `http://127.0.0.1:${fx.httpPort}/api/v1/jobs/${jobId}/executions/job-dev-b/logs`,
    );
    assert.equal(missing.status, 404);
  });

  it('sends a device that was offline its execution when it connects', async () => {
    await fx.server().stores.devices.createDevice({ id: 'job-dev-c', serial: 'SN-job-dev-c' }, Date.now());
    const jobId = await createJob({ operation: 'self-test', target: { deviceIds: ['job-dev-c'] } });
    await waitFor(async () => (await jobView(jobId)).job.state === 'in-progress', { what: 'job started' });
    assert.deepEqual((await jobView(jobId)).counts, { queued: 1 });
    const c = await connectDevice('job-dev-c');
    await c.send(capabilities([]));
    const run = await nextRun(c, jobId);
    await c.send({
      kind: 'progress',
      executionId: run.executionId,
      attempt: 1,
      state: 'succeeded',
      result: { checks: [] },
    });
    await waitFor(async () => (await jobView(jobId)).job.state === 'completed', { what: 'job completed' });
  });

  it('answers bad requests with the field, 428 without confirm, and cancels with confirm', async () => {
    const bad = await fx.request('POST', '/api/v1/jobs', {
      operation: 'command',
      target: { deviceIds: ['job-dev-a'] },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /body\.command/);
    const reset = await fx.request('POST', '/api/v1/jobs', {
      operation: 'factory-reset',
      target: { deviceIds: ['job-dev-a'] },
    });
    assert.equal(reset.status, 428);
    const dry = await fx.request('POST', '/api/v1/jobs', {
      operation: 'command',
      command: 'restart-app',
      target: { where: 'id != "nobody"' },
      dryRun: true,
    });
    assert.equal(dry.status, 201, JSON.stringify(dry.body));
    assert.equal((dry.body.result as { devices: number }).devices, 3);
    const later = await createJob({
      operation: 'reboot',
      target: { deviceIds: ['job-dev-b'] },
      startAtMs: Date.now() + 3_600_000,
    });
    assert.equal((await fx.request('POST', '/api/v1/jobs/cancel-all', {})).status, 428);
    const all = await fx.request('POST', '/api/v1/jobs/cancel-all', { confirm: true });
    assert.deepEqual(all.body, { cancelled: [later] });
    assert.equal((await fx.request('POST', `/api/v1/jobs/${later}/cancel`)).status, 409);
    const listed = await fx.api<{ items: Array<{ id: string; state: string }> }>(
      '/api/v1/jobs?state=cancelled',
    );
    assert.deepEqual(
      listed.body.items.map((j) => j.id),
      [later],
    );
  });
});
