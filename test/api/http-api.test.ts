/** The management API over real HTTP: errors, OpenAPI document, Prometheus metrics (checked by promtool). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ field: string }> } };
}

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe('management HTTP API', () => {
  let fx: ServerFixture;
  before(async () => {
    // Fleet gauges recomputed every second, so the test sees the devices created below.
    fx = await createServerFixture({ fleetMetrics: { refreshIntervalS: 1 } });
    const store = fx.server().store;
    for (let i = 0; i < 5; i++) {
      await store.createDevice(
        {
          id: `api-${i}`,
          serial: `SN-API-${i}`,
          hardwareModel: i % 2 ? 'm-odd' : 'm-even',
          tags: { parity: i % 2 ? 'odd' : 'even' },
        },
        Date.now(),
      );
    }
  });
  after(async () => {
    await fx?.close();
  });

  it('answers unknown routes and bad queries with JSON errors carrying stable codes', async () => {
    const missing = await fx.api<ErrorBody>('/api/v1/nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');

    const bad = await fx.api<ErrorBody>('/api/v1/devices?limit=0&state=sleeping&colour=red');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
    const fields = (bad.body.error.details?.issues ?? []).map((i) => i.field).sort();
    assert.deepEqual(fields, ['query', 'query.limit', 'query.state']);

    const badTag = await fx.api<ErrorBody>('/api/v1/devices?tag=novalue');
    assert.equal(badTag.status, 400);
    assert.match(badTag.body.error.message, /key=value/);

    const badCursor = await fx.api<ErrorBody>('/api/v1/devices?cursor=%%%');
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.error.code, 'validation_failed');
  });

  it('filters by model, tag and connection state', async () => {
    const odd = await fx.api<{ items: Array<{ id: string }> }>('/api/v1/devices?model=m-odd');
    assert.deepEqual(
      odd.body.items.map((d) => d.id),
      ['api-1', 'api-3'],
    );
    const even = await fx.api<{ items: Array<{ id: string }> }>(
      '/api/v1/devices?tag=parity=even&state=offline',
    );
    assert.deepEqual(
      even.body.items.map((d) => d.id),
      ['api-0', 'api-2', 'api-4'],
    );
    const online = await fx.api<{ items: unknown[] }>('/api/v1/devices?state=online');
    assert.equal(online.body.items.length, 0);
  });

  it('publishes an OpenAPI 3.1 document describing every route', async () => {
    const { body } = await fx.api<{
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; parameters: Array<{ name: string }> }>>;
    }>('/openapi.json');
    assert.equal(body.openapi, '3.1.0');
    for (const path of [
      '/api/v1/devices',
      '/api/v1/devices/{id}',
      '/api/v1/fleet/summary',
      '/healthz',
      '/api/v1/factory/batches',
      '/api/v1/devices/{id}/revoke',
      '/pki/crl.pem',
    ]) {
      assert.ok(body.paths[path], `${path} is documented`);
    }
    const list = body.paths['/api/v1/devices']?.['get'];
    assert.equal(list?.operationId, 'listDevices');
    assert.deepEqual(list?.parameters.map((p) => p.name).sort(), [
      'cursor',
      'firmware',
      'group',
      'limit',
      'model',
      'sort',
      'state',
      'tag',
      'where',
    ]);
  });

  it('serves Prometheus metrics that promtool accepts', async () => {
    await fx.api('/api/v1/devices');
    assert.equal(
      (await fx.request('POST', '/api/v1/groups', { name: 'odd', query: 'tag.parity = "odd"' })).status,
      201,
    );
    const scrape = async () => (await fetch(`http://127.0.0.1:${fx.httpPort}/metrics`)).text();
    // The cached fleet summaries catch up on their interval (not per scrape).
    await waitFor(async () => /^flotilla_fleet_online_ratio\{group="odd"\} 0$/m.test(await scrape()), {
      what: 'fleet gauges refreshed',
    });
    const text = await scrape();
    assert.match(text, /^flotilla_fleet_online_ratio 0$/m);
    assert.match(text, /^flotilla_fleet_battery_devices\{bucket="unknown"\} 5$/m);
    assert.match(text, /^flotilla_fleet_signal_devices\{group="odd",bucket="unknown"\} 2$/m);
    assert.match(text, /^flotilla_fleet_firmware_devices\{version="unknown"\} 5$/m);
    assert.match(text, /^# TYPE flotilla_fleet_firmware_current_ratio gauge$/m);
    assert.match(text, /^# TYPE flotilla_fleet_error_rate gauge$/m);
    assert.match(text, /^# TYPE flotilla_alert_evaluation_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE flotilla_alert_rule_matches gauge$/m);
    assert.match(text, /^flotilla_fleet_devices\{state="offline"\} 5$/m);
    assert.match(text, /^flotilla_gateway_connected_devices 0$/m);
    const check = await promtoolCheck(text);
    assert.equal(check.code, 0, check.output);
  });

  it('serves the dashboard: the page, its bundle gzip-compressed, and 304 for a known ETag', async () => {
    const base = `http://127.0.0.1:${fx.httpPort}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/app\.js">/);
    for (const [name, type] of [
      ['app.js', /text\/javascript/],
      ['app.css', /text\/css/],
    ] as const) {
      const asset = await fetch(`${base}/${name}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(asset.status, 200, name);
      assert.match(asset.headers.get('content-type') ?? '', type);
      assert.equal(asset.headers.get('content-encoding'), 'gzip');
      assert.ok((await asset.text()).length > 1000, name);
      const etag = asset.headers.get('etag') ?? '';
      const again = await fetch(`${base}/${name}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
  });
});
