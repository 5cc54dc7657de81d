/**
 * A device reads and writes only its own configuration: over MQTT it cannot subscribe to another
 * device's `config/desired`, and the device HTTPS API answers for the certificate's device only.
 * Against a real server, real TLS and the embedded broker.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { ConfigDesired, ConfigReported } from '../../src/contracts/config-messages.ts';
import type { DeviceConfigView } from '../../src/device-config/config-api.ts';
import { issueDeviceCert, type KeyPairPem } from '../../src/pki/x509.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const schema = {
  'led.on': { type: 'boolean', default: true, apply: 'live' },
  'log.level': { type: 'enum', enum: ['info', 'debug'], default: 'info', apply: 'restart' },
} as const;

describe('device config isolation', () => {
  let fx: ServerFixture;
  const clients: MqttClient[] = [];
  const certs = new Map<string, KeyPairPem>();

  async function cert(deviceId: string): Promise<KeyPairPem> {
    const existing = certs.get(deviceId);
    if (existing) return existing;
    const issued = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId, serial: `SN-${deviceId}`, validityDays: 1 },
      Date.now(),
    );
    certs.set(deviceId, issued);
    return issued;
  }

  async function connect(deviceId: string): Promise<MqttClient> {
    const pair = await cert(deviceId);
    const client = mqtt.connect(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: deviceId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.server().pki.chainPem,
      cert: pair.certPem,
      key: pair.keyPem,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  }

  /** A device HTTPS call with `deviceId`'s certificate (none: no client certificate). */
  async function deviceHttp(
    method: 'GET' | 'POST',
    path: string,
    deviceId: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const pair = deviceId === undefined ? undefined : await cert(deviceId);
    const url = `${fx.server().deviceHttpUrl}${path}`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: fx.server().pki.chainPem,
          ...(pair ? { cert: pair.certPem, key: pair.keyPem } : {}),
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  const report = (version: number, values: Record<string, unknown> = {}): ConfigReported => ({
    version,
    values: { 'led.on': true, 'log.level': 'info', ...values },
    pendingRestart: [],
    rejected: [],
    schema: schema as unknown as ConfigReported['schema'],
  });

  before(async () => {
    fx = await createServerFixture();
  });

  after(async () => {
    for (const client of clients) client.end(true);
    await fx?.close();
  });

  it('refuses a subscription to another device’s config/desired', async () => {
    const a = await connect('cfg-a');
    const b = await connect('cfg-b');
    const received: string[] = [];
    b.on('message', (topic) => received.push(topic));
    // mqtt.js rejects a SUBACK with the failure code 0x80.
    await assert.rejects(b.subscribeAsync('fl/d/cfg-a/config/desired', { qos: 1 }), /Subscribe error/);
    await assert.rejects(b.subscribeAsync('fl/d/+/config/desired', { qos: 1 }), /Subscribe error/);
    const own = await b.subscribeAsync('fl/d/cfg-b/config/desired', { qos: 1 });
    assert.equal(own[0]?.qos, 1);

    // A declares its schema and gets a (retained) document of its own; B never sees it.
    const desiredOfA = new Promise<ConfigDesired>((resolve) =>
      a.on('message', (topic, payload) => {
        if (topic === 'fl/d/cfg-a/config/desired') resolve(JSON.parse(payload.toString()) as ConfigDesired);
      }),
    );
    await a.subscribeAsync('fl/d/cfg-a/config/desired', { qos: 1 });
    await a.publishAsync('fl/d/cfg-a/config/reported', JSON.stringify(report(0)), { qos: 1 });
    assert.equal((await desiredOfA).version, 1);
    const put = await fx.request('PUT', '/api/v1/devices/cfg-a/config', { set: { 'led.on': false } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await b.publishAsync('fl/d/cfg-b/config/reported', JSON.stringify(report(0)), { qos: 1 });
    await waitFor(() => received.includes('fl/d/cfg-b/config/desired'), { what: 'B gets its own document' });
    assert.ok(
      received.every((topic) => topic.startsWith('fl/d/cfg-b/')),
      received.join(', '),
    );
  });

  it('closes a device that publishes another device’s report', async () => {
    const b = await connect('cfg-b2');
    const closed = new Promise<void>((resolve) => b.once('close', () => resolve()));
    b.publish('fl/d/cfg-a/config/reported', JSON.stringify(report(9, { 'led.on': true })), { qos: 1 });
    await closed;
    const viewA = (await fx.api<DeviceConfigView>('/api/v1/devices/cfg-a/config')).body;
    assert.notEqual(viewA.reported?.version, 9);
  });

  it('serves GET /device/v1/config and POST /device/v1/config/reported for the caller only', async () => {
    const ofA = await deviceHttp('GET', '/device/v1/config', 'cfg-a');
    assert.equal(ofA.status, 200);
    assert.deepEqual(ofA.json.values, { 'led.on': false });
    const ofB = await deviceHttp('GET', '/device/v1/config', 'cfg-b');
    assert.equal(ofB.status, 200);
    assert.deepEqual(ofB.json.values, {}, 'B sees its own document, not A’s');

    const posted = await deviceHttp(
      'POST',
      '/device/v1/config/reported',
      'cfg-b',
      report(ofB.json.version as number, { 'log.level': 'debug' }),
    );
    assert.equal(posted.status, 200);
    assert.equal(posted.json.version, ofB.json.version);
    const viewB = (await fx.api<DeviceConfigView>('/api/v1/devices/cfg-b/config')).body;
    assert.equal(viewB.reported?.values['log.level'], 'debug');
    const viewA = (await fx.api<DeviceConfigView>('/api/v1/devices/cfg-a/config')).body;
    assert.equal(viewA.reported?.values['log.level'], 'info');

    const bad = await deviceHttp('POST', '/device/v1/config/reported', 'cfg-b', { version: -1 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.message), /version/);
    const anonymous = await deviceHttp('GET', '/device/v1/config', undefined);
    assert.equal(anonymous.status, 401);
  });
});
