/**
 * Alert rules and the fleet summary over a real server: the shipped defaults seeded, CRUD with
 * validation errors naming the field, (the CLI: cli.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ field: string }> } };
}

const fields = (body: unknown): string[] =>
  ((body as ErrorBody).error.details?.issues ?? []).map((issue) => issue.field);

describe('alert rules and fleet summary over HTTP', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await createServerFixture();
    const store = fx.server().store;
    for (const [id, model, firmware] of [
      ['f1', 'tracker-2', '2.3.0'],
      ['f2', 'tracker-2', '2.3.0'],
      ['f3', 'sensor-1', '1.0.0'],
    ] as const)
      await store.createDevice(
        { id, serial: `SN-${id}`, hardwareModel: model, firmwareVersion: firmware },
        Date.now(),
      );
    await store.recordConnected('f1', 'SN-f1', Date.now());
  });
  after(async () => {
    await fx?.close();
  });

  it('seeds the shipped defaults on first start', async () => {
    const { body } = await fx.api<{ items: Array<{ rule: { name: string }; origin: string }> }>(
      '/api/v1/alert-rules',
    );
    assert.deepEqual(
      body.items.map((item) => item.rule.name),
      [
        'battery-low',
        'device-error-rate-high',
        'device-offline',
        'fleet-firmware-current-low',
        'fleet-online-low',
        'signal-weak',
      ],
    );
    assert.ok(body.items.every((item) => item.origin === 'default'));
  });

  it('creates, changes and deletes a rule; refuses impossible ones naming the field', async () => {
    const rule = {
      name: 'temp-high',
      target: 'device',
      metric: 'temperature',
      operator: '>',
      levels: [{ severity: 'warning', threshold: 70 }],
      for: '5m',
      scope: 'model = "tracker-2"',
    };
    const created = await fx.request('POST', '/api/v1/alert-rules', rule);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await fx.request('POST', '/api/v1/alert-rules', rule)).status, 409);

    const battery = await fx.request('POST', '/api/v1/alert-rules', {
      ...rule,
      name: 'b',
      metric: 'battery',
      operator: '<',
      levels: [{ severity: 'warning', threshold: 150 }],
    });
    assert.equal(battery.status, 400);
    assert.deepEqual(fields(battery.body), ['body.levels.0.threshold']);
    const negative = await fx.request('POST', '/api/v1/alert-rules', { ...rule, name: 'n', for: '-5m' });
    assert.deepEqual(fields(negative.body), ['body.for']);
    const badScope = await fx.request('POST', '/api/v1/alert-rules', {
      ...rule,
      name: 's',
      scope: 'modle = "x"',
    });
    assert.equal(badScope.status, 400);
    assert.deepEqual(fields(badScope.body), ['body.scope']);
    assert.match(String((badScope.body as unknown as ErrorBody).error.message), /did you mean "model"/);

    const patched = await fx.request('PATCH', '/api/v1/alert-rules/temp-high', { enabled: false });
    assert.equal(patched.status, 200);
    assert.equal((patched.body['rule'] as { enabled: boolean }).enabled, false);
    const badPatch = await fx.request('PATCH', '/api/v1/alert-rules/temp-high', {
      levels: [{ severity: 'warning', threshold: 500 }],
    });
    assert.deepEqual(fields(badPatch.body), ['body.levels.0.threshold']);
    assert.equal((await fx.request('PATCH', '/api/v1/alert-rules/nothing', { enabled: true })).status, 404);
    assert.equal((await fx.request('DELETE', '/api/v1/alert-rules/temp-high')).status, 200);
    assert.equal((await fx.api('/api/v1/alert-rules/temp-high')).status, 404);
  });

  it('answers the fleet summary for the fleet, a query and a saved group', async () => {
    const all = await fx.api<{ total: number; online: number; devices: { onlinePct: number } }>(
      '/api/v1/fleet/summary',
    );
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 3);
    assert.equal(all.body.online, 1);
    const where = await fx.api<{
      devices: { total: number };
      firmware: { versions: Array<{ version: string; devices: number }> };
    }>(`/api/v1/fleet/summary?where=${encodeURIComponent('model = "tracker-2"')}`);
    assert.equal(where.body.devices.total, 2);
    assert.deepEqual(where.body.firmware.versions, [{ version: '2.3.0', devices: 2 }]);
    assert.equal(
      (await fx.request('POST', '/api/v1/groups', { name: 'sensors', query: 'model = "sensor-1"' })).status,
      201,
    );
    const group = await fx.api<{ devices: { total: number }; scope: { group: string } }>(
      '/api/v1/fleet/summary?group=sensors',
    );
    assert.deepEqual([group.body.devices.total, group.body.scope.group], [1, 'sensors']);
    const bad = await fx.api<ErrorBody>(`/api/v1/fleet/summary?where=${encodeURIComponent('batery < 5')}`);
    assert.equal(bad.status, 400);
  });
});
