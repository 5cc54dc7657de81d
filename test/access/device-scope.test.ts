/**
 * Device scopes over real HTTP: an operator (and release manager) of the "eu-west" group sees and
 * acts on eu-west devices only; us-east devices are filtered out or answer 404 as if missing. The
 * audit log names the token as actor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuthServer, type AuthServer } from './auth-server.ts';

describe('device scopes', () => {
  let server: AuthServer;
  let operator: string;
  let viewer: string;
  let releaseManager: string;

  before(async () => {
    server = await startAuthServer();
    const devices = server.fx.server().store;
    const at = Date.now();
    await devices.createDevice({ id: 'eu-1', serial: 'S-eu-1', hardwareModel: 'm1', region: 'eu-west' }, at);
    await devices.createDevice({ id: 'eu-2', serial: 'S-eu-2', hardwareModel: 'm1', region: 'eu-west' }, at);
    await devices.createDevice({ id: 'us-1', serial: 'S-us-1', hardwareModel: 'm1', region: 'us-east' }, at);
    operator = await server.userWithToken('eu-operator', 'operator', 'group = "eu-west"');
    viewer = await server.userWithToken('eu-viewer', 'viewer', 'group = "eu-west"');
    releaseManager = await server.userWithToken('eu-release', 'release-manager', 'group = "eu-west"');
  });
  after(() => server.fx.close());

  it('lists, counts and summarises only the devices in scope', async () => {
    const list = await server.call('GET', '/api/v1/devices', { token: viewer });
    assert.deepEqual(
      (list.body['items'] as Array<{ id: string }>).map((device) => device.id),
      ['eu-1', 'eu-2'],
    );
    const filtered = await server.call('GET', `/api/v1/devices?where=${encodeURIComponent('id = "us-1"')}`, {
      token: viewer,
    });
    assert.deepEqual(filtered.body['items'], []);
    assert.deepEqual((await server.call('GET', '/api/v1/devices/count', { token: viewer })).body, {
      count: 2,
    });
    const summary = await server.call('GET', '/api/v1/fleet/summary', { token: viewer });
    assert.equal(summary.body['total'], 2);
    const admin = await server.call('GET', '/api/v1/devices/count', { cookie: server.adminCookie });
    assert.deepEqual(admin.body, { count: 3 });
  });

  it('answers 404 for one device outside the scope, as for a missing one', async () => {
    assert.equal((await server.call('GET', '/api/v1/devices/eu-1', { token: viewer })).status, 200);
    const outside = await server.call('GET', '/api/v1/devices/us-1', { token: viewer });
    assert.equal(outside.status, 404);
    assert.deepEqual(outside.body, {
      error: { code: 'not_found', message: 'device us-1 not found', details: { id: 'us-1' } },
    });
    for (const path of ['/api/v1/telemetry/events?device=us-1', '/api/v1/devices/us-1/updates'])
      assert.equal((await server.call('GET', path, { token: viewer })).status, 404, path);
    assert.equal(
      (await server.call('GET', '/api/v1/telemetry/events?device=eu-1', { token: viewer })).status,
      200,
    );
    const latest = await server.call('GET', '/api/v1/telemetry/latest?device=eu-1&device=us-1', {
      token: viewer,
    });
    assert.equal(latest.status, 200);
    assert.ok(!JSON.stringify(latest.body).includes('us-1'), 'us-1 is filtered out');
    const rollup = await server.call('GET', '/api/v1/telemetry/series?metric=battery_pct&fleet=true', {
      token: viewer,
    });
    assert.equal(rollup.status, 403, 'fleet-wide rollups cover devices outside the scope');
  });

  it('a group operation reaches only the scope, even with all: true, and is audited with the token', async () => {
    const result = await server.call('POST', '/api/v1/devices/operations', {
      token: operator,
      body: { all: true, action: { type: 'tag', set: { ring: 'beta' } } },
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body['matched'], 2);
    const tagged = await server.call(
      'GET',
      `/api/v1/devices?where=${encodeURIComponent('tag.ring = "beta"')}`,
      {
        cookie: server.adminCookie,
      },
    );
    assert.deepEqual(
      (tagged.body['items'] as Array<{ id: string }>).map((device) => device.id),
      ['eu-1', 'eu-2'],
    );
    const audit = await server.call('GET', '/api/v1/audit?action=devices.tagged', {
      cookie: server.adminCookie,
    });
    const entries = audit.body['items'] as Array<{ actor: string }>;
    assert.deepEqual(
      entries.map((entry) => entry.actor),
      ['token:eu-operator/matrix'],
    );
  });

  it('a deployment naming a device outside the scope is 404', async () => {
    const answer = await server.call('POST', '/api/v1/firmware/deployments', {
      token: releaseManager,
      body: { model: 'm1', version: '1.0.0', deviceIds: ['eu-1', 'us-1'] },
    });
    assert.equal(answer.status, 404);
    assert.match(String((answer.body['error'] as { message: string }).message), /unknown device\(s\): us-1$/);
  });
});
