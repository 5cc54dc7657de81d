/**
 * The configuration routes narrow every request to the caller's device scope and audit with the
 * caller's actor: a device outside the scope is "not found", defaults that reach devices outside
 * it are forbidden, bulk edits only touch devices inside it. Real SQLite stores and group service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../src/access/principal.ts';
import { unrestrictedPrincipal } from '../../src/access/principal.ts';
import { deviceConfigRoutes } from '../../src/api/routes/device-config.ts';
import type { ApiRoute } from '../../src/api/route.ts';
import type { ConfigDesired } from '../../src/contracts/config-messages.ts';
import { createDeviceConfig } from '../../src/device-config/index.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { ForbiddenError, NotFoundError } from '../../src/infra/errors.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';

const files = tempDatabaseFiles('config-scope');
const T0 = 1_700_000_000_000;
const schema = {
  'led.on': { type: 'boolean', default: true, apply: 'live' },
} as const;

/** An operator whose role binding reaches the devices of `where` only. */
const scoped = (where: string): Principal => ({
  actor: 'user:eu-operator',
  can: () => true,
  deviceScope: () => ({ kind: 'query', where }),
});

describe('config routes and device scopes', () => {
  let stores: Stores;
  let routes: Map<string, ApiRoute>;
  const published: Array<{ deviceId: string; desired: ConfigDesired }> = [];
  let reportLate: () => Promise<ConfigDesired> = () => Promise.reject(new Error('not set up'));

  const call = (
    operationId: string,
    principal: Principal,
    input: { params?: unknown; body?: unknown } = {},
  ) => {
    const route = routes.get(operationId);
    if (!route) throw new Error(`no route ${operationId}`);
    const parse = (schema: ApiRoute['body'], value: unknown) =>
      schema ? schema.parse(value ?? {}) : undefined;
    return route.handler({
      params: parse(route.params, input.params),
      query: undefined,
      body: parse(route.body, input.body),
      source: 'test',
      principal,
      sessionCookie: { set: () => {}, clear: () => {} },
      stream: undefined,
      contentLength: undefined,
    });
  };

  before(async () => {
    await files.open();
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    for (const id of ['eu-1', 'eu-2', 'us-1', 'late-1'])
      await stores.devices.recordConnected(id, `S-${id}`, T0);
    const clock = { now: () => T0 };
    const groups = new GroupService({ groups: stores.groups, clock });
    await groups.create({ name: 'eu', query: 'id = "eu-1" or id = "eu-2"' });
    await groups.create({ name: 'everyone', query: 'id = "eu-1" or id = "us-1"' });
    const config = createDeviceConfig({
      store: stores.deviceConfig,
      devices: stores.devices,
      groups,
      audit: stores.provisioning,
      clock,
      logger: createLogger('silent'),
      publish: (deviceId, desired) => {
        published.push({ deviceId, desired });
        return Promise.resolve();
      },
    });
    for (const id of ['eu-1', 'eu-2', 'us-1'])
      await config.handler.reported(
        { deviceId: id, serial: `S-${id}` } as Parameters<typeof config.handler.reported>[0],
        { version: 0, values: { 'led.on': true }, pendingRestart: [], rejected: [], schema },
      );
    routes = new Map(deviceConfigRoutes({ service: config.service }).map((r) => [r.operationId, r]));
    reportLate = () =>
      config.handler.reported(
        { deviceId: 'late-1', serial: 'S-late-1' } as Parameters<typeof config.handler.reported>[0],
        {
          version: 0,
          values: { 'led.on': true },
          pendingRestart: [],
          rejected: [],
          schema,
        },
      );
  });

  after(async () => {
    await stores?.close();
    await files.close();
  });

  it('declares a config permission on every route', () => {
    for (const route of routes.values())
      assert.ok(
        route.permission === 'config:read' || route.permission === 'config:write',
        `${route.operationId} declares ${String(route.permission)}`,
      );
  });

  it('answers not found for a device outside the scope, and edits one inside it', async () => {
    const eu = scoped('id = "eu-1" or id = "eu-2"');
    await assert.rejects(call('getDeviceConfig', eu, { params: { id: 'us-1' } }), NotFoundError);
    await assert.rejects(
      call('setDeviceConfig', eu, { params: { id: 'us-1' }, body: { set: { 'led.on': false } } }),
      NotFoundError,
    );
    await call('setDeviceConfig', eu, { params: { id: 'eu-1' }, body: { set: { 'led.on': false } } });
    assert.deepEqual(published.at(-1), {
      deviceId: 'eu-1',
      desired: { version: 2, values: { 'led.on': false } },
    });
    const entries = await stores.provisioning.listAudit({
      target: 'eu-1',
      action: 'config.desired.set',
      limit: 10,
    });
    assert.equal(entries[0]?.actor, 'user:eu-operator');
  });

  it('forbids defaults that reach devices outside the scope', async () => {
    const eu = scoped('id = "eu-1" or id = "eu-2"');
    await assert.rejects(
      call('setFleetConfigDefaults', eu, { body: { set: { 'led.on': false } } }),
      ForbiddenError,
    );
    await assert.rejects(
      call('setGroupConfigDefaults', eu, {
        params: { name: 'everyone' },
        body: { set: { 'led.on': false } },
      }),
      ForbiddenError,
    );
    const result = (await call('setGroupConfigDefaults', eu, {
      params: { name: 'eu' },
      body: { set: { 'led.on': false } },
    })) as { affected: number };
    assert.equal(result.affected, 2);
    await assert.rejects(
      call('setGroupConfigDefaults', unrestrictedPrincipal(), {
        params: { name: 'nope' },
        body: { set: {} },
      }),
      NotFoundError,
    );
  });

  it('bulk edits only devices inside the scope', async () => {
    const eu = scoped('id = "eu-1"');
    const byQuery = (await call('bulkDeviceConfig', eu, {
      body: { where: 'id = "us-1" or id = "eu-1"', set: { 'led.on': true }, dryRun: true },
    })) as { matched: number; sample: string[] };
    assert.deepEqual([byQuery.matched, byQuery.sample], [1, ['eu-1']]);
    const byIds = (await call('bulkDeviceConfig', eu, {
      body: { deviceIds: ['us-1', 'eu-1'], set: { 'led.on': true } },
    })) as { changed: number; notFound: string[] };
    assert.deepEqual([byIds.changed, byIds.notFound], [1, ['us-1']]);
  });

  it('keeps changes for a device without a schema and validates them when it declares one', async () => {
    const admin = unrestrictedPrincipal();
    await call('setDeviceConfig', admin, {
      params: { id: 'late-1' },
      body: { set: { 'led.on': 'maybe', 'fan.speed': 3 } },
    });
    assert.equal(published.filter((p) => p.deviceId === 'late-1').length, 0, 'nothing sent without a schema');
    const desired = await reportLate();
    assert.deepEqual(desired, { version: 1, values: {} });
    assert.deepEqual(published.at(-1), { deviceId: 'late-1', desired });
    const view = (await call('getDeviceConfig', admin, { params: { id: 'late-1' } })) as {
      effective: { conflicts: Array<{ key: string }> };
    };
    assert.deepEqual(
      view.effective.conflicts.map((c) => c.key),
      ['fan.speed', 'led.on'],
    );
  });
});
