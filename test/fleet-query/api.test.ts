/** Fleet queries and dynamic groups over the management API, on a real server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: {
      position?: { offset: number; line: number; column: number };
      length?: number;
      expected?: string[];
    };
  };
}
interface PageBody {
  items: Array<{ id: string }>;
  nextCursor?: string;
}

const q = (text: string) => encodeURIComponent(text);

describe('fleet queries over the API', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await createServerFixture();
    const store = fx.server().store;
    const now = Date.now();
    await store.createDevice(
      { id: 'q1', serial: 'Q1', hardwareModel: 'tracker-2', firmwareVersion: '2.9.0' },
      now,
    );
    await store.createDevice(
      { id: 'q2', serial: 'Q2', hardwareModel: 'tracker-2', firmwareVersion: '2.10.0' },
      now,
    );
    await store.createDevice(
      { id: 'q3', serial: 'Q3', hardwareModel: 'sensor-1', firmwareVersion: '1.0.0', tags: { ring: 'beta' } },
      now,
    );
  });
  after(async () => {
    await fx?.close();
  });

  it('lists and counts the devices a query matches', async () => {
    const list = await fx.api<PageBody>(
      `/api/v1/devices?where=${q('firmware > 2.9.0 or tag.ring = "beta"')}`,
    );
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((d) => d.id),
      ['q2', 'q3'],
    );
    const paged = await fx.api<PageBody>(`/api/v1/devices?limit=1&model=tracker-2&where=${q('age < 1h')}`);
    assert.deepEqual(
      paged.body.items.map((d) => d.id),
      ['q1'],
    );
    assert.ok(paged.body.nextCursor);
    const count = await fx.api<{ count: number }>(`/api/v1/devices/count?where=${q('model = "tracker-2"')}`);
    assert.deepEqual(count, { status: 200, body: { count: 2 } });
    const all = await fx.api<{ count: number }>('/api/v1/devices/count');
    assert.equal(all.body.count, 3);
  });

  it('answers a bad query with 400 and the position', async () => {
    const bad = await fx.api<ErrorBody>(`/api/v1/devices?where=${q('model = "a" and batery < 20')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    assert.deepEqual(bad.body.error.details?.position, { offset: 16, line: 1, column: 17 });
    assert.equal(bad.body.error.details?.length, 6);
    assert.ok(bad.body.error.details?.expected?.includes('battery'));
    assert.match(
      bad.body.error.message,
      /did you mean "battery"\?\n {2}model = "a" and batery < 20\n {18}\^{6}$/,
    );
    const count = await fx.api<ErrorBody>(`/api/v1/devices/count?where=${q('tag.ring < "x"')}`);
    assert.equal(count.status, 400);
    assert.equal(count.body.error.details?.position?.column, 10);
  });

  it('saves queries as groups, usable in queries and as ?group=', async () => {
    const created = await fx.request('POST', '/api/v1/groups', {
      name: 'trackers',
      query: 'model = "tracker-2"',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'trackers');
    const nested = await fx.request('POST', '/api/v1/groups', {
      name: 'new-trackers',
      query: 'group = "trackers" and firmware >= 2.10.0',
    });
    assert.equal(nested.status, 201);
    const dup = await fx.request('POST', '/api/v1/groups', { name: 'trackers', query: 'online' });
    assert.equal(dup.status, 409);
    const invalid = await fx.request('POST', '/api/v1/groups', {
      name: 'broken',
      query: 'group = "trackrs"',
    });
    assert.equal(invalid.status, 400);
    assert.match(
      String((invalid.body.error as { message: string }).message),
      /unknown group "trackrs"; did you mean "trackers"\?/,
    );

    const byGroup = await fx.api<PageBody>('/api/v1/devices?group=new-trackers');
    assert.deepEqual(
      byGroup.body.items.map((d) => d.id),
      ['q2'],
    );
    const inQuery = await fx.api<PageBody>(`/api/v1/devices?where=${q('not group = "trackers"')}`);
    assert.deepEqual(
      inQuery.body.items.map((d) => d.id),
      ['q3'],
    );
    const unknown = await fx.api<ErrorBody>('/api/v1/devices?group=nothing');
    assert.equal(unknown.status, 400);

    const list = await fx.api<{ items: Array<{ name: string }> }>('/api/v1/groups');
    assert.deepEqual(
      list.body.items.map((g) => g.name),
      ['new-trackers', 'trackers'],
    );
    assert.equal((await fx.api('/api/v1/groups/trackers')).status, 200);
    assert.equal((await fx.request('DELETE', '/api/v1/groups/trackers')).status, 409);
    assert.equal((await fx.request('DELETE', '/api/v1/groups/new-trackers')).status, 200);
    assert.equal((await fx.request('DELETE', '/api/v1/groups/trackers')).status, 200);
    assert.equal((await fx.api('/api/v1/groups/trackers')).status, 404);
  });

  it('documents where, group and the count route in OpenAPI', async () => {
    const doc = await fx.api<{
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    }>('/openapi.json');
    const list = doc.body.paths['/api/v1/devices']?.['get'];
    const names = (list?.parameters ?? []).map((p) => p.name);
    assert.ok(names.includes('where') && names.includes('group'), names.join());
    assert.ok(doc.body.paths['/api/v1/devices/count']?.['get']);
    assert.ok(doc.body.paths['/api/v1/groups']?.['post']);
    assert.ok(doc.body.paths['/api/v1/groups/{name}']?.['delete']);
  });
});
