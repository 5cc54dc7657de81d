/**
 * Telemetry end to end through the real server: an mqtt.js client with a device certificate
 * against the embedded broker (acks, duplicates, invalid and malformed batches, spoofing), the
 * HTTPS batch upload (gzip, the decompressed size cap), the query API and /metrics.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { TELEMETRY_LIMITS, type TelemetryAck } from '../../src/contracts/telemetry-messages.ts';
import { issueDeviceCert, type KeyPairPem } from '../../src/pki/x509.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const agg = (v: number) => ({ min: v, max: v, avg: v, count: 1, last: v });

function healthBatch(seq: number, startMs: number, battery: number) {
  return {
    seq,
    windows: [{ kind: 'health', startMs, endMs: startMs + 300_000, values: { battery_pct: agg(battery) } }],
    events: [{ type: 'boot', atMs: startMs, severity: 'info', code: 'power_on' }],
  };
}

/** A device session that collects what arrives on its telemetry/ack and rejected topics. */
interface DeviceSession {
  client: MqttClient;
  next(topicSuffix: 'telemetry/ack' | 'rejected'): Promise<Record<string, unknown>>;
}

describe('telemetry transport end to end', () => {
  let fx: ServerFixture;
  const clients: MqttClient[] = [];

  async function deviceCert(deviceId: string): Promise<KeyPairPem> {
    return issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId, serial: `SN-${deviceId}`, validityDays: 1 },
      Date.now(),
    );
  }

  async function connectDevice(deviceId: string): Promise<DeviceSession> {
    const cert = await deviceCert(deviceId);
    const client = await mqtt.connectAsync(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: deviceId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.server().pki.chainPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    clients.push(client);
    const inbox = new Map<string, Array<Record<string, unknown>>>();
    const waiting = new Map<string, Array<(m: Record<string, unknown>) => void>>();
    client.on('message', (topic, payload) => {
      const suffix = topic.slice(`fl/d/${deviceId}/`.length);
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      const waiter = waiting.get(suffix)?.shift();
      if (waiter) waiter(body);
      else inbox.set(suffix, [...(inbox.get(suffix) ?? []), body]);
    });
    await client.subscribeAsync([`fl/d/${deviceId}/telemetry/ack`, `fl/d/${deviceId}/rejected`], { qos: 1 });
    return {
      client,
      next: (suffix) => {
        const queued = inbox.get(suffix)?.shift();
        if (queued) return Promise.resolve(queued);
        return new Promise((resolve) => waiting.set(suffix, [...(waiting.get(suffix) ?? []), resolve]));
      },
    };
  }

  function upload(
    body: Buffer,
    headers: Record<string, string>,
    cert?: KeyPairPem,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${fx.server().deviceHttpUrl}/device/v1/telemetry`,
        {
          method: 'POST',
          ca: fx.server().pki.chainPem,
          ...(cert && { cert: cert.certPem, key: cert.keyPem }),
          headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  before(async () => {
    fx = await createServerFixture();
  });

  after(async () => {
    for (const client of clients) client.end(true);
    await fx?.close();
  });

  it('acks a batch on telemetry/ack once stored, and a re-sent one as duplicate', async () => {
    const device = await connectDevice('tele-1');
    const t = Date.now() - 3_600_000;
    await device.client.publishAsync('fl/d/tele-1/telemetry', JSON.stringify(healthBatch(1, t, 77)), {
      qos: 1,
    });
    // The PUBACK came after the store committed: the data is readable now.
    const latest = await fx.api<{ items: Array<{ metric: string; value: number }> }>(
      '/api/v1/telemetry/latest?device=tele-1',
    );
    assert.deepEqual(
      latest.body.items.map((i) => [i.metric, i.value]),
      [['battery_pct', 77]],
    );
    assert.deepEqual(await device.next('telemetry/ack'), {
      seq: 1,
      outcome: 'stored',
      accepted: 2,
      rejected: [],
    });
    await device.client.publishAsync('fl/d/tele-1/telemetry', JSON.stringify(healthBatch(1, t, 77)), {
      qos: 1,
    });
    assert.deepEqual(await device.next('telemetry/ack'), {
      seq: 1,
      outcome: 'duplicate',
      accepted: 0,
      rejected: [],
    });
    const series = await fx.api<{ points: unknown[] }>(
      `/api/v1/telemetry/series?device=tele-1&metric=battery_pct&resolution=raw&from=${t - 1}`,
    );
    assert.equal(series.body.points.length, 1, 'stored once');
  });

  it('acks a batch that fails its schema as invalid, and refuses one without a seq on rejected', async () => {
    const device = await connectDevice('tele-2');
    await device.client.publishAsync('fl/d/tele-2/telemetry', JSON.stringify({ seq: 4, windows: 'nope' }), {
      qos: 1,
    });
    const invalid = (await device.next('telemetry/ack')) as TelemetryAck;
    assert.equal(invalid.seq, 4);
    assert.equal(invalid.outcome, 'invalid');
    assert.equal(invalid.rejected[0]?.path, 'windows');
    for (const payload of ['{not json', JSON.stringify({ windows: [] })]) {
      await device.client.publishAsync('fl/d/tele-2/telemetry', payload, { qos: 1 });
      const notice = await device.next('rejected');
      assert.equal(notice['code'], 'malformed_payload');
      assert.equal(notice['topic'], 'fl/d/tele-2/telemetry');
    }
    // Still connected and served.
    await device.client.publishAsync(
      'fl/d/tele-2/telemetry',
      JSON.stringify(healthBatch(5, Date.now() - 60_000, 5)),
      {
        qos: 1,
      },
    );
    assert.equal((await device.next('telemetry/ack'))['outcome'], 'stored');
  });

  it("disconnects a device that publishes to another device's telemetry topic and stores nothing", async () => {
    const attacker = await connectDevice('tele-evil');
    const closed = new Promise<void>((resolve) => attacker.client.once('close', () => resolve()));
    attacker.client.publish(
      'fl/d/tele-1/telemetry',
      JSON.stringify(healthBatch(99, Date.now() - 60_000, 1)),
      { qos: 1 },
    );
    await closed;
    const latest = await fx.api<{ items: Array<{ value: number }> }>(
      '/api/v1/telemetry/latest?device=tele-1',
    );
    assert.deepEqual(
      latest.body.items.map((i) => i.value),
      [77],
    );
  });

  it('takes a gzip-compressed HTTPS upload and answers one ack per batch, in order', async () => {
    const cert = await deviceCert('tele-http');
    const t = Date.now() - 7_200_000;
    const body = {
      batches: [
        healthBatch(2, t + 300_000, 10),
        healthBatch(1, t, 11),
        { seq: 3, windows: [{}] },
        healthBatch(2, t, 1),
      ],
    };
    const response = await upload(gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip' }, cert);
    assert.equal(response.status, 200);
    const acks = response.body['acks'] as TelemetryAck[];
    assert.deepEqual(
      acks.map((a) => [a.seq, a.outcome]),
      [
        [2, 'stored'],
        [1, 'stored'],
        [3, 'invalid'],
        [2, 'duplicate'],
      ],
    );
    const plain = await upload(Buffer.from(JSON.stringify({ batches: [healthBatch(4, t, 12)] })), {}, cert);
    assert.equal(plain.status, 200);
  });

  it('caps the decompressed upload size (413) and refuses bad uploads', async () => {
    const cert = await deviceCert('tele-http-2');
    // A few KB of gzip that inflate past the limit: cut off while streaming.
    const bomb = gzipSync(Buffer.alloc(TELEMETRY_LIMITS.uploadBytes + 1024, 0x20));
    assert.ok(bomb.length < 64 * 1024);
    const tooLarge = await upload(bomb, { 'content-encoding': 'gzip' }, cert);
    assert.equal(tooLarge.status, 413);
    assert.equal((await upload(Buffer.from('{}'), { 'content-encoding': 'br' }, cert)).status, 415);
    assert.equal((await upload(Buffer.from('not gzip'), { 'content-encoding': 'gzip' }, cert)).status, 400);
    assert.equal((await upload(Buffer.from('{"batches":[]}'), {}, cert)).status, 400);
    assert.equal((await upload(Buffer.from('{"batches":[{"windows":[]}]}'), {}, cert)).status, 400);
    assert.equal((await upload(Buffer.from('{"batches":[]}'), {})).status, 401, 'no certificate');
  });

  it('serves series, latest values and events, and answers bad parameters with 400', async () => {
    const from = Date.now() - 86_400_000;
    const hourly = await fx.api<{ points: Array<{ count: number; deviceId: string | null }> }>(
      `/api/v1/telemetry/series?device=tele-http&metric=battery_pct&resolution=hour&from=${from}`,
    );
    assert.equal(hourly.status, 200);
    assert.equal(
      hourly.body.points.reduce((n, p) => n + p.count, 0),
      3,
    );
    const fleet = await fx.api<{ points: unknown[] }>(
      `/api/v1/telemetry/series?fleet=true&metric=battery_pct&resolution=day&from=${new Date(from).toISOString()}`,
    );
    assert.ok(fleet.body.points.length >= 1);
    const events = await fx.api<{ items: Array<{ code: string }> }>(
      `/api/v1/telemetry/events?device=tele-http&type=boot&severity=info`,
    );
    assert.equal(events.body.items.length, 3);
    for (const bad of [
      '/api/v1/telemetry/series?metric=battery_pct',
      '/api/v1/telemetry/series?device=a&model=b&metric=battery_pct',
      '/api/v1/telemetry/series?device=a&metric=Bad-Name',
      '/api/v1/telemetry/series?device=a&metric=x&resolution=week',
      '/api/v1/telemetry/series?device=a&metric=x&from=yesterday',
      '/api/v1/telemetry/series?device=a&metric=x&from=2000&to=1000',
      '/api/v1/telemetry/events?device=a&severity=loud',
      '/api/v1/telemetry/latest',
    ]) {
      const response = await fx.api<{ error: { code: string; message: string } }>(bad);
      assert.equal(response.status, 400, bad);
      assert.equal(response.body.error.code, 'validation_failed');
    }
  });

  it('exposes ingest metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    assert.match(text, /flotilla_telemetry_batches_total\{outcome="duplicate"\} [1-9]/);
    assert.match(text, /flotilla_telemetry_records_total\{result="accepted",reason=""\} [1-9]/);
    assert.match(text, /flotilla_telemetry_queue_depth 0/);
    assert.match(text, /flotilla_telemetry_write_duration_seconds_count [1-9]/);
  });
});
