/**
 * Configuration round trip on simulated devices: a real server (embedded broker, real TLS), real
 * agents running the config sync, telemetry and state files. Live keys change the running agent,
 * restart keys wait for a power cycle, the server refuses what the device's schema refuses before
 * sending, group defaults reach members only, an offline device catches up on reconnect, a device
 * rejects a combination on its own side, and every change is audited.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/infra/clock.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import type { DeviceConfigView } from '../../src/device-config/config-api.ts';
import type { SimConfigDevice } from '../../src/sim/sim-config.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

describe('device configuration on simulated devices', () => {
  let fx: ServerFixture;
  let sim: SimulationHandle;
  const running = new Map<string, SimConfigDevice>();
  let ids: string[] = [];

  const view = async (id: string) => (await fx.api<DeviceConfigView>(`/api/v1/devices/${id}/config`)).body;
  const put = (id: string, body: unknown) => fx.request('PUT', `/api/v1/devices/${id}/config`, body);
  const device = (id: string) => {
    const found = running.get(id);
    if (!found) throw new Error(`${id} is not running`);
    return found;
  };
  /** Waits until the device reported the version last sent with `check` holding on the view. */
  const settled = (id: string, what: string, check: (v: DeviceConfigView) => boolean = () => true) =>
    waitFor(
      async () => {
        const { status, body: v } = await fx.api<DeviceConfigView>(`/api/v1/devices/${id}/config`);
        return (
          status === 200 &&
          v.reported !== null &&
          v.sent.version > 0 &&
          v.reported.version === v.sent.version &&
          check(v)
        );
      },
      { what },
    );
  const audit = async (target: string) =>
    (
      await fx.api<{ items: Array<{ action: string; actor: string; details: Record<string, unknown> }> }>(
        `/api/v1/audit?target=${encodeURIComponent(target)}&limit=100`,
      )
    ).body.items;

  before(async () => {
    fx = await createServerFixture();
    sim = await startSimulation(
      { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('silent') },
      {
        devices: 4,
        seed: 11,
        serverUrl: `mqtts://localhost:${fx.mqttPort}`,
        dataDir: fx.dataDir,
        backoff: { initialMs: 50, maxMs: 500 },
        telemetry: { sampleMs: 1000, windowMs: 10_000, sendMs: 5000 },
        config: { onBoot: (id, booted) => running.set(id, booted) },
      },
    );
    ids = sim.devices.map((d) => d.deviceId).sort();
    const [a, b] = ids;
    const group = await fx.request('POST', '/api/v1/groups', {
      name: 'cfg-pair',
      query: `id = ${JSON.stringify(a)} or id = ${JSON.stringify(b)}`,
    });
    assert.equal(group.status, 201, JSON.stringify(group.body));
  });

  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  it('stores the schema each device declares on connect and sends it a first document', async () => {
    for (const id of ids) await settled(id, `${id} in sync`, (v) => v.inSync);
    const v = await view(ids[0] as string);
    assert.deepEqual(v.schema?.['mqtt.keepaliveS'], {
      type: 'integer',
      min: 5,
      max: 1200,
      default: 60,
      apply: 'restart',
      description: 'MQTT keepalive, s',
    });
    assert.equal(v.schema?.['telemetry.healthSampleS']?.apply, 'live');
    assert.equal(v.reported?.values['telemetry.healthSampleS'], 1);
  });

  it('applies live keys in the running agent at once', async () => {
    const id = ids[0] as string;
    const before = await view(id);
    const response = await put(id, {
      set: { 'telemetry.healthSampleS': 2, 'telemetry.healthWindowS': 20, 'heartbeat.intervalS': 5 },
      expectedVersion: before.desired.version,
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    await waitFor(() => device(id).telemetry?.settings().health.sampleMs === 2000, {
      what: 'the new health sample period in the running collector',
    });
    assert.equal(device(id).telemetry?.settings().health.windowMs, 20_000);
    await settled(id, 'applied report', (v) => v.inSync);
    const after = await view(id);
    assert.equal(after.reported?.values['heartbeat.intervalS'], 5);
    assert.deepEqual(after.effective.sources['heartbeat.intervalS'], { kind: 'device' });
    assert.equal(after.desired.version, before.desired.version + 1);
  });

  it('keeps a restart key pending until the device restarts, then applies it', async () => {
    const id = ids[0] as string;
    assert.equal((await put(id, { set: { 'mqtt.keepaliveS': 30 } })).status, 200);
    await settled(id, 'pending restart reported', (v) => v.pendingRestart.includes('mqtt.keepaliveS'));
    const pending = await view(id);
    assert.equal(pending.inSync, false);
    assert.equal(pending.reported?.values['mqtt.keepaliveS'], 60, 'still the old value while running');
    const saved = JSON.parse(
      await readFile(join(fx.dataDir, 'sim', 'devices', id, 'config.json'), 'utf8'),
    ) as {
      pending: Record<string, unknown>;
    };
    assert.deepEqual(saved.pending, { 'mqtt.keepaliveS': 30 });

    await sim.disconnect([id]);
    sim.reconnect([id]);
    await settled(id, 'keepalive applied after restart', (v) => v.inSync);
    const restarted = await view(id);
    assert.equal(restarted.reported?.values['mqtt.keepaliveS'], 30);
    assert.deepEqual(restarted.pendingRestart, []);
    assert.equal(device(id).config.values()['mqtt.keepaliveS'], 30);
    // Live values set earlier survived the restart too.
    assert.equal(device(id).telemetry?.settings().health.sampleMs, 2000);
  });

  it('refuses before sending what the device schema refuses, naming key and rule', async () => {
    const id = ids[1] as string;
    const before = await view(id);
    const low = await put(id, { set: { 'heartbeat.intervalS': 0 } });
    assert.equal(low.status, 400);
    const error = low.body.error as { message: string; details: { key: string; rule: string } };
    assert.match(error.message, /heartbeat\.intervalS must be >= 1 \(min\)/);
    assert.equal(error.details.key, 'heartbeat.intervalS');
    const unknown = await put(id, { set: { 'fan.speed': 3 } });
    assert.equal(unknown.status, 400);
    assert.match((unknown.body.error as { message: string }).message, /fan\.speed unknown key/);
    const wrongEnum = await put(id, { set: { 'log.level': 'loud' } });
    assert.match((wrongEnum.body.error as { message: string }).message, /log\.level must be one of/);
    const after = await view(id);
    assert.equal(after.sent.version, before.sent.version, 'nothing was sent');
    assert.equal(after.desired.version, before.desired.version, 'nothing was stored');
    const stale = await put(id, {
      set: { 'heartbeat.intervalS': 9 },
      expectedVersion: before.desired.version + 5,
    });
    assert.equal(stale.status, 409);
  });

  it('sends group defaults to the group members only, with their source', async () => {
    const [a, b, c] = ids as [string, string, string];
    const response = await fx.request('PUT', '/api/v1/config/groups/cfg-pair', {
      set: { 'telemetry.sendS': 2 },
      priority: 3,
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.affected, 2);
    assert.deepEqual(response.body.conflicts, []);
    for (const id of [a, b]) {
      await settled(id, `${id} got the group default`, (v) => v.reported?.values['telemetry.sendS'] === 2);
      assert.deepEqual((await view(id)).effective.sources['telemetry.sendS'], {
        kind: 'group',
        name: 'cfg-pair',
      });
      assert.equal(device(id).telemetry?.settings().sendMs, 2000);
    }
    const outside = await view(c);
    assert.equal(outside.reported?.values['telemetry.sendS'], 5);
    assert.equal(outside.effective.sources['telemetry.sendS'], undefined);
    assert.equal(device(c).telemetry?.settings().sendMs, 5000);
  });

  it('lists devices whose schema refuses a default as conflicts and does not send it to them', async () => {
    const response = await fx.request('PUT', '/api/v1/config/defaults', { set: { 'log.level': 'loud' } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const conflicts = response.body.conflicts as Array<{ deviceId: string; key: string; reason: string }>;
    assert.deepEqual(
      conflicts.map((c) => c.deviceId),
      ids,
    );
    assert.ok(conflicts.every((c) => c.key === 'log.level' && /one of/.test(c.reason)));
    const v = await view(ids[2] as string);
    assert.equal(v.sent.values['log.level'], undefined);
    assert.deepEqual(v.effective.conflicts[0]?.source, { kind: 'fleet' });
    assert.equal((await fx.request('DELETE', '/api/v1/config/defaults')).status, 200);
  });

  it('delivers a change made while a device was offline when it reconnects', async () => {
    const id = ids[3] as string;
    await sim.disconnect([id]);
    await waitFor(
      async () =>
        (await fx.api<{ connectionState: string }>(`/api/v1/devices/${id}`)).body.connectionState ===
        'offline',
      { what: 'device offline on the server' },
    );
    assert.equal((await put(id, { set: { 'heartbeat.intervalS': 7 } })).status, 200);
    const offline = await view(id);
    assert.equal(offline.inSync, false);
    sim.reconnect([id]);
    await settled(
      id,
      'offline change applied after reconnect',
      (v) => v.reported?.values['heartbeat.intervalS'] === 7,
    );
    assert.equal((await view(id)).inSync, true);
  });

  it('reports what the device refuses on its own side, with the reason', async () => {
    const id = ids[2] as string;
    // Both values fit the schema; the device's own rule (window = whole sample periods) refuses the pair.
    const response = await put(id, { set: { 'telemetry.appSampleS': 3, 'telemetry.appWindowS': 10 } });
    assert.equal(response.status, 200);
    await settled(id, 'rejection reported', (v) => v.rejected.length > 0);
    const v = await view(id);
    assert.equal(v.inSync, false);
    // Keeping the old window with the new sample period is refused too: neither key changes.
    assert.deepEqual(
      v.rejected.map((r) => r.key),
      ['telemetry.appWindowS', 'telemetry.appSampleS'],
    );
    assert.match(v.rejected[0]?.reason ?? '', /must be a multiple of the sample period/);
    assert.match(v.rejected[1]?.reason ?? '', /^not applied: window/);
    assert.equal(v.reported?.values['telemetry.appWindowS'], 10, 'the old window is kept');
    assert.equal(v.reported?.values['telemetry.appSampleS'], 1, 'the old sample period is kept');
    assert.equal(device(id).telemetry?.settings().app.windowMs, 10_000);
    assert.equal(device(id).telemetry?.settings().app.sampleMs, 1000);
    const entries = await audit(id);
    assert.ok(entries.some((e) => e.action === 'config.rejected' && e.actor === `device:${id}`));
  });

  it('bulk edits with a dry run, leaving refusing devices out', async () => {
    const [a, b] = ids as [string, string];
    const where = `id = ${JSON.stringify(a)} or id = ${JSON.stringify(b)}`;
    const dry = await fx.request('POST', '/api/v1/config/bulk', {
      where,
      set: { 'log.level': 'debug' },
      dryRun: true,
    });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body, {
      dryRun: true,
      matched: 2,
      sample: [a, b],
      changed: 0,
      conflicts: [],
      conflictedDevices: 0,
      notFound: [],
    });
    const refused = await fx.request('POST', '/api/v1/config/bulk', {
      deviceIds: [a, 'no-such-device'],
      set: { 'heartbeat.intervalS': 99_999 },
    });
    assert.equal(refused.body.conflictedDevices, 1);
    assert.deepEqual(refused.body.notFound, ['no-such-device']);
    assert.equal(refused.body.changed, 0);
    const done = await fx.request('POST', '/api/v1/config/bulk', { where, set: { 'log.level': 'debug' } });
    assert.equal(done.body.changed, 2);
    await settled(b, 'log level pending restart', (v) => v.pendingRestart.includes('log.level'));
  });

  it('audits every change with its actor', async () => {
    const id = ids[0] as string;
    const entries = await audit(id);
    const actions = entries.map((e) => e.action);
    assert.ok(actions.includes('config.desired.set'));
    assert.ok(actions.includes('config.applied'));
    const set = entries.find((e) => e.action === 'config.desired.set');
    assert.equal(set?.actor, 'api');
    assert.ok(
      (await audit('group:cfg-pair')).some(
        (e) => e.action === 'config.defaults.set' && e.details.affected === 2,
      ),
    );
  });

  it('answers 404 for an unknown device', async () => {
    assert.equal((await fx.api(`/api/v1/devices/nope/config`)).status, 404);
    assert.equal((await put('nope', { set: { 'log.level': 'info' } })).status, 404);
  });
});
