/**
 * Deployments end to end: real MQTT devices with their certificates get the retained offer,
 * report their progress, and the API shows it; the same device pulls over HTTPS.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { issueDeviceCert, type KeyPairPem } from '../../src/pki/x509.ts';
import { updateStatusResponseSchema, type UpdateNotify } from '../../src/contracts/update-messages.ts';
import { deviceSchema } from '../../src/contracts/device.ts';
import { errorBodySchema } from '../../src/api/error-mapping.ts';
import {
  cancelResultSchema,
  deploymentSchema,
  deploymentSummarySchema,
  deployResultSchema,
  updateHistorySchema,
} from '../../src/api/routes/deployments.ts';
import { waitFor } from '../helpers/wait.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

function flotilla(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

interface Inbox {
  notify: UpdateNotify[];
  rejected: Array<{ code: string; topic: string }>;
}

describe('deployments end to end', () => {
  let fx: ServerFixture;
  const clients: MqttClient[] = [];
  const certs = new Map<string, KeyPairPem>();
  let deploymentId = '';

  async function api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${fx.httpPort}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  async function summaryOf(id: string) {
    const { body } = await api('GET', `/api/v1/firmware/deployments/${id}`);
    return deploymentSummarySchema.parse(body);
  }

  async function connectDevice(deviceId: string): Promise<{ client: MqttClient; inbox: Inbox }> {
    const cert = certs.get(deviceId)!;
    const client = mqtt.connect(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: deviceId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.server().pki.chainPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const inbox: Inbox = { notify: [], rejected: [] };
    client.on('message', (topic, payload) => {
      const json = JSON.parse(payload.toString()) as never;
      if (topic.endsWith('/update/notify')) inbox.notify.push(json);
      if (topic.endsWith('/rejected')) inbox.rejected.push(json);
    });
    await client.subscribeAsync([`fl/d/${deviceId}/update/notify`, `fl/d/${deviceId}/rejected`], { qos: 1 });
    return { client, inbox };
  }

  function report(client: MqttClient, deviceId: string, firmwareVersion: string, seq: number) {
    return client.publishAsync(
      `fl/d/${deviceId}/state/reported`,
      JSON.stringify({
        seq,
        firmwareVersion,
        hardware: { model: 'tracker-2', revision: 'B' },
        serial: `SN-${deviceId}`,
        uptimeS: 1,
      }),
      { qos: 1 },
    );
  }

  function status(client: MqttClient, deviceId: string, body: Record<string, unknown>) {
    return client.publishAsync(
      `fl/d/${deviceId}/update/status`,
      JSON.stringify({ deploymentId, version: '2.4.1', ...body }),
      { qos: 1 },
    );
  }

  /** A device HTTPS request authenticated by `deviceId`'s certificate. */
  function deviceHttps(
    deviceId: string,
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    const cert = certs.get(deviceId)!;
    return new Promise((resolve, reject) => {
      const req = request(
        `${fx.server().deviceHttpUrl}${path}`,
        {
          method,
          ca: fx.server().pki.chainPem,
          cert: cert.certPem,
          key: cert.keyPem,
          headers: {
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  }

  before(async () => {
    fx = await createServerFixture();
    const image = randomBytes(1024);
    const upload = await fetch(`http://127.0.0.1:${fx.httpPort}/api/v1/firmware/artifacts`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: image,
    });
    const { sha256 } = (await upload.json()) as { sha256: string };
    for (const version of ['2.4.1', '2.5.0']) {
      const published = await api('POST', '/api/v1/firmware/releases', {
        version,
        hardwareModel: 'tracker-2',
        sha256,
      });
      assert.equal(published.status, 201);
    }
    for (const id of ['upd-1', 'upd-2', 'upd-3']) {
      certs.set(
        id,
        await issueDeviceCert(
          fx.server().pki.issuingCa,
          { deviceId: id, serial: `SN-${id}`, validityDays: 1 },
          Date.now(),
        ),
      );
    }
  });
  after(async () => {
    for (const client of clients) client.end(true);
    await fx?.close();
  });

  it('pushes the retained offer, also to a device that connects after the deploy, and shows statuses', async () => {
    const one = await connectDevice('upd-1');
    await report(one.client, 'upd-1', '2.4.0', 1);
    const two = await connectDevice('upd-2');
    await report(two.client, 'upd-2', '2.4.0', 1);
    two.client.end(true);
    await waitFor(
      async () =>
        deviceSchema.parse((await api('GET', '/api/v1/devices/upd-2')).body).firmwareVersion === '2.4.0',
      {
        what: 'both devices registered',
      },
    );

    const created = await api('POST', '/api/v1/firmware/deployments', {
      model: 'tracker-2',
      version: '2.4.1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const result = deployResultSchema.parse(created.body);
    deploymentId = result.deployment.id;
    assert.deepEqual(result.offered, ['upd-1', 'upd-2']);
    const offer = {
      deploymentId,
      version: '2.4.1',
      target: 'tracker-2_2.4.1.img',
      installNow: true,
      force: false,
    };
    await waitFor(() => one.inbox.notify.length === 1, { what: 'the pushed offer' });
    assert.deepEqual(one.inbox.notify[0], { offer });

    // upd-2 was offline during the deploy: the retained message is waiting for it.
    const late = await connectDevice('upd-2');
    await waitFor(() => late.inbox.notify.length === 1, { what: 'the retained offer' });
    assert.deepEqual(late.inbox.notify[0], { offer });

    const states = ['downloading', 'downloaded', 'installing', 'rebooting', 'verifying'];
    for (const [index, state] of states.entries()) {
      await status(one.client, 'upd-1', { state, seq: 10 + index, progress: 100, delta: false, bytes: 1024 });
    }
    // A stale (replayed) status is acknowledged and ignored.
    await status(one.client, 'upd-1', { state: 'failed', reason: 'internal', seq: 11 });
    let summary = await summaryOf(deploymentId);
    assert.deepEqual(summary.counts, { offered: 1, verifying: 1 });

    await report(one.client, 'upd-1', '2.4.1', 2);
    await status(one.client, 'upd-1', { state: 'success', seq: 20 });
    await waitFor(() => one.inbox.notify.length === 2, { what: 'the cleared offer' });
    assert.deepEqual(one.inbox.notify[1], { offer: null });
    summary = await summaryOf(deploymentId);
    assert.deepEqual(summary.counts, { offered: 1, success: 1 });
    const row = summary.devices.items.find((d) => d.deviceId === 'upd-1');
    assert.deepEqual(
      [row?.state, row?.lastSeq, row?.bytes, row?.firmwareVersion],
      ['success', 20, 1024, '2.4.1'],
    );
    const history = await api('GET', '/api/v1/devices/upd-1/updates');
    assert.deepEqual(
      updateHistorySchema.parse(history.body).items.map((h) => h.state),
      ['success', ...states.reverse(), 'offered'],
    );
  });

  it('lets the device pull its offer over HTTPS (ETag, 304) and post a status', async () => {
    const first = await deviceHttps('upd-2', 'GET', '/device/v1/update');
    assert.equal(first.status, 200);
    assert.equal((JSON.parse(first.body) as UpdateNotify).offer?.deploymentId, deploymentId);
    const etag = String(first.headers['etag']);
    assert.match(etag, /^"[^"]+"$/);
    const again = await deviceHttps('upd-2', 'GET', '/device/v1/update', {
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.status, 304);

    const posted = await deviceHttps('upd-2', 'POST', '/device/v1/update/status', {
      body: { deploymentId, version: '2.4.1', state: 'downloading', seq: 5, progress: 40 },
    });
    assert.equal(posted.status, 202, posted.body);
    assert.equal(updateStatusResponseSchema.parse(JSON.parse(posted.body)).outcome, 'applied');
    const duplicate = await deviceHttps('upd-2', 'POST', '/device/v1/update/status', {
      body: { deploymentId, version: '2.4.1', state: 'downloading', seq: 5, progress: 40 },
    });
    assert.deepEqual(
      [duplicate.status, updateStatusResponseSchema.parse(JSON.parse(duplicate.body)).outcome],
      [202, 'duplicate'],
    );
    const malformed = await deviceHttps('upd-2', 'POST', '/device/v1/update/status', {
      body: { deploymentId, version: '2.4.1', state: 'failed', seq: 6 },
    });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body, /reason/);
    const foreign = await deviceHttps('upd-2', 'POST', '/device/v1/update/status', {
      body: { deploymentId: 'dep-unknown', version: '2.4.1', state: 'downloading', seq: 7 },
    });
    assert.deepEqual(
      [foreign.status, updateStatusResponseSchema.parse(JSON.parse(foreign.body)).outcome],
      [409, 'not_assigned'],
    );
    const summary = await summaryOf(deploymentId);
    assert.deepEqual(summary.counts, { downloading: 1, success: 1 });
  });

  it("refuses a status published to another device's topic, and answers malformed statuses", async () => {
    const three = await connectDevice('upd-3');
    await three.client.publishAsync('fl/d/upd-3/update/status', '{"deploymentId": 1}', { qos: 1 });
    await waitFor(() => three.inbox.rejected.length === 1, { what: 'a rejection notice' });
    assert.deepEqual(
      [three.inbox.rejected[0]?.code, three.inbox.rejected[0]?.topic],
      ['malformed_payload', 'fl/d/upd-3/update/status'],
    );
    await assert.rejects(three.client.subscribeAsync('fl/d/upd-2/update/notify', { qos: 1 }));
    const closed = new Promise<void>((resolve) => three.client.once('close', () => resolve()));
    three.client.publish(
      'fl/d/upd-2/update/status',
      JSON.stringify({ deploymentId, version: '2.4.1', state: 'failed', reason: 'internal', seq: 1e12 }),
      { qos: 1 },
    );
    await closed;
    const summary = await summaryOf(deploymentId);
    assert.deepEqual(summary.counts, { downloading: 1, success: 1 }, 'upd-2 untouched');
  });

  it('names the active deployment in a conflict, restores offers after a restart, and cancel publishes {offer:null}', async () => {
    const conflict = await api('POST', '/api/v1/firmware/deployments', {
      model: 'tracker-2',
      version: '2.5.0',
      deviceIds: ['upd-2'],
    });
    assert.equal(conflict.status, 409);
    assert.match(
      errorBodySchema.parse(conflict.body).error.message,
      new RegExp(`upd-2 \\(deployment ${deploymentId}\\)`),
    );

    // Retained messages live in the broker's memory: a restarted server publishes them again.
    for (const client of clients.splice(0)) client.end(true);
    await fx.stop();
    await fx.start();
    const two = await connectDevice('upd-2');
    await waitFor(() => two.inbox.notify.length === 1, { what: 'the offer restored after a restart' });
    assert.equal(two.inbox.notify[0]?.offer?.deploymentId, deploymentId);
    const cancelled = await api('POST', `/api/v1/firmware/deployments/${deploymentId}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelResultSchema.parse(cancelled.body).withdrawn, ['upd-2']);
    await waitFor(() => two.inbox.notify.length === 2, { what: 'the withdrawn offer' });
    assert.deepEqual(two.inbox.notify[1], { offer: null });
    const pulled = await deviceHttps('upd-2', 'GET', '/device/v1/update');
    assert.deepEqual(JSON.parse(pulled.body), { offer: null });
    const listed = await api('GET', '/api/v1/firmware/deployments');
    const items = z.object({ items: z.array(deploymentSchema) }).parse(listed.body).items;
    assert.deepEqual(
      items.map((d) => [d.id, d.cancelledAt !== null]),
      [[deploymentId, true]],
    );

    const server = `http://127.0.0.1:${fx.httpPort}`;
    const deployed = await flotilla([
      'firmware',
      'deploy',
      '--model',
      'tracker-2',
      '--version',
      '2.5.0',
      '--device',
      'upd-1',
      '--install-later',
      '--window-cron',
      '0 2 * * MON-FRI',
      '--window-duration',
      '7200',
      '--window-tz',
      'Europe/Berlin',
      '--server',
      server,
      '--json',
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const result = deployResultSchema.parse(JSON.parse(deployed.stdout));
    assert.deepEqual([result.offered, result.deployment.installNow], [['upd-1'], false]);
    const installWindow = { cron: '0 2 * * MON-FRI', durationS: 7200, timezone: 'Europe/Berlin' };
    assert.deepEqual(result.deployment.installWindow, installWindow);
    const windowOffer = await deviceHttps('upd-1', 'GET', '/device/v1/update');
    assert.deepEqual((JSON.parse(windowOffer.body) as UpdateNotify).offer?.installWindow, installWindow);
    const shown = await flotilla([
      'firmware',
      'deployment',
      result.deployment.id,
      '--server',
      server,
      '--json',
    ]);
    assert.deepEqual(deploymentSummarySchema.parse(JSON.parse(shown.stdout)).counts, { offered: 1 });
    const listedByCli = await flotilla(['firmware', 'deployments', '--server', server]);
    assert.match(listedByCli.stdout, new RegExp(`${result.deployment.id}\\s+tracker-2@2\\.5\\.0\\s+later`));
    const cancelledByCli = await flotilla([
      'firmware',
      'deployment',
      'cancel',
      result.deployment.id,
      '--server',
      server,
    ]);
    assert.match(cancelledByCli.stdout, /offer withdrawn from 1 device/);
    const busy = await flotilla([
      'firmware',
      'deploy',
      '--model',
      'tracker-2',
      '--version',
      '2.5.0',
      '--device',
      'nope',
      '--server',
      server,
    ]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /unknown device\(s\): nope/);
    const badWindow = await api('POST', '/api/v1/firmware/deployments', {
      model: 'tracker-2',
      version: '2.5.0',
      deviceIds: ['upd-1'],
      installWindow: { cron: '0 25 * * *', durationS: 7200, timezone: 'Europe/Berlin' },
    });
    assert.equal(badWindow.status, 400, JSON.stringify(badWindow.body));
    assert.match(JSON.stringify(badWindow.body), /installWindow\.cron/);
    const halfWindow = await flotilla([
      'firmware',
      'deploy',
      '--model',
      'tracker-2',
      '--version',
      '2.5.0',
      '--window-cron',
      '0 2 * * *',
      '--server',
      server,
    ]);
    assert.equal(halfWindow.code, 1);
    assert.match(halfWindow.stderr, /--window-cron, --window-duration and --window-tz go together/);
  });
});
