/**
 * End to end over real TLS: the server on free ports, 20 simulated devices each with its own
 * certificate, hostile clients, and a server restart.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { createAgent } from '../../src/agent/agent.ts';
import type { Device, FleetSummary } from '../../src/contracts/device.ts';
import { createSelfSignedCa, issueDeviceCert, loadSigningCa, type KeyPairPem } from '../../src/pki/x509.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { waitFor } from '../helpers/wait.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const run = promisify(execFile);
const DEVICES = 20;

describe('gateway end to end', () => {
  let fx: ServerFixture;
  let sim: SimulationHandle;
  const clients: MqttClient[] = [];

  async function summary(): Promise<FleetSummary> {
    return (await fx.api<FleetSummary>('/api/v1/fleet/summary')).body;
  }

  async function deviceCert(deviceId: string, serial = `SN-${deviceId}`): Promise<KeyPairPem> {
    return issueDeviceCert(fx.server().pki.issuingCa, { deviceId, serial, validityDays: 1 }, Date.now());
  }

  /** A raw mqtt.js client presenting `cert`; no automatic reconnect. */
  function connectRaw(
    clientId: string,
    cert?: KeyPairPem,
    ca = fx.server().pki.chainPem,
  ): Promise<MqttClient> {
    const client = mqtt.connect(`mqtts://localhost:${fx.mqttPort}`, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca,
      ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
    });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
  }

  before(async () => {
    fx = await createServerFixture();
    sim = await startSimulation(
      { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('silent') },
      {
        devices: DEVICES,
        seed: 7,
        serverUrl: `mqtts://localhost:${fx.mqttPort}`,
        dataDir: fx.dataDir,
        heartbeatIntervalS: 1,
        backoff: { initialMs: 100, maxMs: 1000 },
      },
    );
  });

  after(async () => {
    for (const client of clients) client.end(true);
    await sim?.stop();
    await fx?.close();
  });

  it('shows 20 simulated devices online with their reported state', async () => {
    await waitFor(
      async () => {
        const { body } = await fx.api<{ items: Device[] }>('/api/v1/devices?state=online&limit=1000');
        return body.items.length === DEVICES && body.items.every((d) => d.firmwareVersion !== null);
      },
      { what: '20 devices online with their reported state' },
    );
    const { body } = await fx.api<{ items: Device[]; nextCursor?: string }>('/api/v1/devices?limit=1000');
    assert.equal(body.items.length, DEVICES);
    for (const device of body.items) {
      assert.equal(device.connectionState, 'online');
      assert.ok(device.firmwareVersion, `${device.id} reported its firmware`);
      assert.ok(device.hardwareModel);
      assert.ok(device.lastSeenAt);
    }
    const expected = new Set(sim.devices.map((d) => d.deviceId));
    assert.deepEqual(new Set(body.items.map((d) => d.id)), expected);
  });

  it('filters and pages the device list', async () => {
    const model = sim.devices[0]!.hardware.model;
    const { body } = await fx.api<{ items: Device[] }>(`/api/v1/devices?model=${encodeURIComponent(model)}`);
    assert.ok(body.items.length > 0);
    assert.ok(body.items.every((d) => d.hardwareModel === model));
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await fx.api<{ items: Device[]; nextCursor?: string }>(
        `/api/v1/devices?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      ids.push(...page.body.items.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(new Set(ids).size, DEVICES);
  });

  it("disconnects a device that publishes to another device's topic, and keeps the victim intact", async () => {
    const victim = sim.devices[1]!.deviceId;
    const before = (await fx.api<Device>(`/api/v1/devices/${victim}`)).body;
    const attacker = await connectRaw('attacker-1', await deviceCert('attacker-1'));
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.publish(
      `fl/d/${victim}/state/reported`,
      JSON.stringify({
        seq: Date.now() * 2,
        firmwareVersion: '6.6.6',
        hardware: { model: 'evil', revision: 'X' },
        serial: 'x',
        uptimeS: 1,
      }),
      { qos: 1 },
    );
    await closed;
    const after = (await fx.api<Device>(`/api/v1/devices/${victim}`)).body;
    assert.equal(after.firmwareVersion, before.firmwareVersion);
    assert.equal(after.connectionState, 'online');
  });

  it("refuses subscriptions to another device's topics and to wildcards", async () => {
    const client = await connectRaw('snoop-1', await deviceCert('snoop-1'));
    for (const filter of [`fl/d/${sim.devices[2]!.deviceId}/rejected`, 'fl/d/#', '#']) {
      await assert.rejects(client.subscribeAsync(filter, { qos: 1 }), filter);
    }
    const granted = await client.subscribeAsync('fl/d/snoop-1/rejected', { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
  });

  it('answers malformed payloads on the rejected topic without crashing', async () => {
    const client = await connectRaw('fuzz-1', await deviceCert('fuzz-1'));
    await client.subscribeAsync('fl/d/fuzz-1/rejected', { qos: 1 });
    const notices: Array<{ code: string; message: string; topic: string }> = [];
    client.on('message', (_topic, payload) =>
      notices.push(JSON.parse(payload.toString()) as (typeof notices)[number]),
    );
    await client.publishAsync('fl/d/fuzz-1/state/reported', '{not json', { qos: 1 });
    await client.publishAsync('fl/d/fuzz-1/heartbeat', JSON.stringify({ uptimeS: 'soon' }), { qos: 1 });
    await client.publishAsync('fl/d/fuzz-1/state/reported', Buffer.alloc(70_000, 0x7b), { qos: 1 });
    await client.publishAsync('fl/d/fuzz-1/whatever', '{}', { qos: 1 });
    await waitFor(() => notices.length === 4, { what: 'four rejection notices' });
    assert.deepEqual(
      notices.map((n) => n.code),
      ['malformed_payload', 'malformed_payload', 'payload_too_large', 'unknown_topic'],
    );
    assert.match(notices[1]!.message, /uptimeS/);
    assert.equal((await fx.api<{ status: string }>('/healthz')).body.status, 'ok');
    const device = (await fx.api<Device>('/api/v1/devices/fuzz-1')).body;
    assert.equal(device.firmwareVersion, null, 'nothing malformed was applied');
  });

  it('refuses clients without a certificate, with a foreign CA, or with a client id that is not their CN', async () => {
    await assert.rejects(connectRaw('nocert'));
    const foreignCa = await loadSigningCa(await createSelfSignedCa('Evil CA', 1, Date.now()));
    const foreign = await issueDeviceCert(
      foreignCa,
      { deviceId: 'evil-1', serial: 'E1', validityDays: 1 },
      Date.now(),
    );
    await assert.rejects(connectRaw('evil-1', foreign));
    await assert.rejects(
      connectRaw(sim.devices[3]!.deviceId, await deviceCert('impostor-1')),
      /Not authorized|closed/i,
    );
    assert.equal((await summary()).online >= DEVICES, true);
  });

  it('accepts a device certificate used by mosquitto_pub (interop)', async () => {
    const cert = await deviceCert('mosq-1', 'SN-MOSQ-1');
    const dir = fx.dataDir;
    await writeFile(join(dir, 'mosq-1.pem'), cert.certPem);
    await writeFile(join(dir, 'mosq-1.key'), cert.keyPem, { mode: 0o600 });
    const report = {
      seq: 1,
      firmwareVersion: '9.9.9',
      hardware: { model: 'c-firmware', revision: 'A' },
      serial: 'SN-MOSQ-1',
      uptimeS: 3,
    };
    await run('mosquitto_pub', [
      '--cafile',
      fx.server().pki.paths.chain,
      '--cert',
      join(dir, 'mosq-1.pem'),
      '--key',
      join(dir, 'mosq-1.key'),
      '-h',
      'localhost',
      '-p',
      String(fx.mqttPort),
      '-i',
      'mosq-1',
      '-q',
      '1',
      '-V',
      'mqttv311',
      '-t',
      'fl/d/mosq-1/state/reported',
      '-m',
      JSON.stringify(report),
    ]);
    await waitFor(
      async () => (await fx.api<Device>('/api/v1/devices/mosq-1')).body.firmwareVersion === '9.9.9',
      { what: 'mosquitto_pub report applied' },
    );
    const device = (await fx.api<Device>('/api/v1/devices/mosq-1')).body;
    assert.equal(device.serial, 'SN-MOSQ-1');
    assert.equal(device.hardwareModel, 'c-firmware');
  });

  it('keeps the registry across a restart and the devices reconnect by themselves', async () => {
    const before = (await fx.api<{ items: Device[] }>('/api/v1/devices?limit=1000')).body.items;
    await fx.stop();
    await waitFor(() => sim.connectedCount() === 0, {
      what: 'simulated devices to notice the server is gone',
    });
    await fx.start();
    // Straight after start, nobody is connected yet as far as the registry is concerned.
    const afterItems = (await fx.api<{ items: Device[] }>('/api/v1/devices?limit=1000')).body.items;
    assert.deepEqual(
      afterItems.map((d) => [d.id, d.serial, d.createdAt, d.firmwareVersion]),
      before.map((d) => [d.id, d.serial, d.createdAt, d.firmwareVersion]),
    );
    await waitFor(async () => (await summary()).online >= DEVICES && sim.connectedCount() === DEVICES, {
      what: 'devices reconnected',
      timeoutMs: 30_000,
    });
    const simIds = new Set(sim.devices.map((d) => d.deviceId));
    const online = (
      await fx.api<{ items: Device[] }>('/api/v1/devices?state=online&limit=1000')
    ).body.items.filter((d) => simIds.has(d.id));
    assert.equal(online.length, DEVICES);
  });

  it('runs the Flotilla agent against the gateway and records state changes and a clean stop', async () => {
    const cert = await deviceCert('agent-1', 'SN-AGENT-1');
    const agent = createAgent(
      { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('silent') },
      {
        deviceId: 'agent-1',
        serverUrl: `mqtts://localhost:${fx.mqttPort}`,
        tls: { caPem: fx.server().pki.chainPem, certPem: cert.certPem, keyPem: cert.keyPem },
        identity: { serial: 'SN-AGENT-1', hardware: { model: 'linux-gw', revision: 'C' } },
        firmwareVersion: '1.0.0',
        region: 'eu-west',
      },
    );
    const device = async () => (await fx.api<Device>('/api/v1/devices/agent-1')).body;
    try {
      agent.start();
      await waitFor(async () => (await device()).firmwareVersion === '1.0.0', {
        what: 'agent state applied',
      });
      agent.setFirmwareVersion('1.1.0');
      await waitFor(async () => (await device()).firmwareVersion === '1.1.0', {
        what: 'changed state applied',
      });
      assert.equal((await device()).region, 'eu-west');
      assert.equal((await device()).connectionState, 'online');
    } finally {
      await agent.stop();
    }
    await waitFor(async () => (await device()).connectionState === 'offline', {
      what: 'agent offline after stop',
    });
  });

  it('closes a session whose keepalive lapses and marks the device offline', async () => {
    const cert = await deviceCert('silent-1');
    const socket = tlsConnect({
      host: 'localhost',
      port: fx.mqttPort,
      ca: fx.server().pki.chainPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    // A hand-made MQTT 3.1.1 CONNECT (clean session, keepalive 1 s); afterwards the client sends
    // nothing at all, not even PINGREQ, like a device that lost power behind a NAT.
    const clientId = Buffer.from('silent-1');
    const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x01]);
    const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
    socket.write(Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]));
    assert.deepEqual([...(await connack)], [0x20, 0x02, 0x00, 0x00]);
    await waitFor(
      async () => (await fx.api<Device>('/api/v1/devices/silent-1')).body.connectionState === 'online',
      { what: 'online' },
    );
    await closed; // the broker closes it after 1.5 × keepalive [MQTT-3.1.2-24]
    await waitFor(
      async () => (await fx.api<Device>('/api/v1/devices/silent-1')).body.connectionState === 'offline',
      { what: 'offline after keepalive' },
    );
  });
});
