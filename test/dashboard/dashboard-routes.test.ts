/**
 * The dashboard routes on a real server with access control: answers match their schemas, a
 * group-scoped viewer gets its scope's numbers and no whole-fleet trends, bad ranges and sorts are 400s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dashboardOverviewSchema, dashboardTrendsSchema } from '../../src/dashboard/overview-schema.ts';
import { startAuthServer, type AuthServer } from '../access/auth-server.ts';

describe('dashboard routes', () => {
  let server: AuthServer;
  let viewer = '';
  let scoped = '';
  before(async () => {
    server = await startAuthServer();
    const store = server.fx.server().store;
    for (const [id, region] of [
      ['d-eu-1', 'eu-west'],
      ['d-eu-2', 'eu-west'],
      ['d-us-1', 'us-east'],
    ] as const) {
      await store.createDevice({ id, serial: `S-${id}`, region }, Date.now());
    }
    viewer = await server.userWithToken('dash-viewer', 'viewer');
    scoped = await server.userWithToken('dash-eu', 'viewer', 'group = "eu-west"');
  });
  after(() => server.fx.close());

  it('answers the overview with the whole fleet and trends to an unscoped viewer', async () => {
    const answer = await server.call('GET', '/api/v1/dashboard/overview', { token: viewer });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const overview = dashboardOverviewSchema.parse(answer.body);
    assert.equal(overview.fleet.devices.total, 3);
    assert.equal(overview.trends.scoped, false);
    // The driver took a snapshot at start.
    assert.ok(overview.trends.points.length >= 1);
  });

  it('narrows fleet numbers to a scoped viewer and gives it no whole-fleet trends', async () => {
    const answer = await server.call('GET', '/api/v1/dashboard/overview', { token: scoped });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const overview = dashboardOverviewSchema.parse(answer.body);
    assert.equal(overview.fleet.devices.total, 2);
    assert.deepEqual(
      { scoped: overview.trends.scoped, points: overview.trends.points },
      { scoped: true, points: [] },
    );
    const trends = dashboardTrendsSchema.parse(
      (await server.call('GET', '/api/v1/dashboard/trends', { token: scoped })).body,
    );
    assert.deepEqual({ scoped: trends.scoped, points: trends.points }, { scoped: true, points: [] });
  });

  it('answers trends over a range and refuses a reversed or malformed one', async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const answer = await server.call(
      'GET',
      `/api/v1/dashboard/trends?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      { token: viewer },
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const trends = dashboardTrendsSchema.parse(answer.body);
    assert.equal(trends.fromMs, Date.parse(from));
    assert.ok(trends.points.length >= 1);
    assert.equal(
      (
        await server.call(
          'GET',
          `/api/v1/dashboard/trends?from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`,
          { token: viewer },
        )
      ).status,
      400,
    );
    assert.equal(
      (await server.call('GET', '/api/v1/dashboard/trends?from=yesterday', { token: viewer })).status,
      400,
    );
  });

  it('sorts the device list and refuses an unknown sort', async () => {
    const answer = await server.call('GET', '/api/v1/devices?sort=-id&limit=2', { token: viewer });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const items = answer.body['items'] as Array<{ id: string }>;
    assert.deepEqual(
      items.map((d) => d.id),
      ['d-us-1', 'd-eu-2'],
    );
    const next = await server.call(
      'GET',
      `/api/v1/devices?sort=-id&limit=2&cursor=${String(answer.body['nextCursor'])}`,
      { token: viewer },
    );
    assert.deepEqual(
      (next.body['items'] as Array<{ id: string }>).map((d) => d.id),
      ['d-eu-1'],
    );
    const bad = await server.call('GET', '/api/v1/devices?sort=battery', { token: viewer });
    assert.equal(bad.status, 400);
  });
});
